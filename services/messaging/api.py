"""Staff API for texts: the outbox and callers' replies; routes that parse, call the
action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.messaging import actions
from services.messaging.schemas import InboundOut, Outbox
from services.platform.auth import Permission, Staff, require
from services.platform.context import ContextDep
from services.platform.params import MAX_ROW_ID

router = APIRouter(tags=["messages"])
Reader = Annotated[Staff, Depends(require(Permission.MESSAGES_READ))]


@router.get("/api/messages/outbox", response_model=Outbox)
def outbox(
    staff: Reader,
    context: ContextDep,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Outbox:
    """Texts sent or waiting, newest first: with the console gateway, this is where they go."""
    return actions.read_outbox(context, staff.actor, before_id=before_id, limit=limit)


@router.get("/api/messages/inbound", response_model=list[InboundOut])
def inbound(
    staff: Reader, context: ContextDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[InboundOut]:
    """Texts callers sent, newest first, each with the sender's earlier requests."""
    return actions.read_inbound(context, staff.actor, limit=limit)
