"""Staff API for texts: the outbox and callers' replies; routes that parse, call the
action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.messaging import actions
from services.messaging.schemas import ConversationOut, InboundOut, Outbox, ReplyIn
from services.platform.auth import MessageReader, Scheduler
from services.platform.context import ContextDep
from services.platform.params import MAX_ROW_ID, BeforeId, PageLimit

router = APIRouter(tags=["messages"])
InboundId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("/api/messages/outbox", response_model=Outbox)
def outbox(
    staff: MessageReader,
    context: ContextDep,
    before_id: BeforeId = None,
    limit: PageLimit = 50,
) -> Outbox:
    """Texts sent or waiting, newest first: with the console gateway, this is where they go."""
    return actions.read_outbox(context, staff.actor, before_id=before_id, limit=limit)


@router.get("/api/messages/inbound", response_model=list[InboundOut])
def inbound(staff: MessageReader, context: ContextDep, limit: PageLimit = 50) -> list[InboundOut]:
    """Texts callers sent, newest first, each with the sender's earlier requests."""
    return actions.read_inbound(context, staff.actor, limit=limit)


@router.get("/api/messages/inbound/{inbound_id}/conversation", response_model=ConversationOut)
def conversation(
    inbound_id: InboundId, staff: MessageReader, context: ContextDep
) -> ConversationOut:
    """The texts to and from the number that sent this text, in order, with its visits.
    The number is named by one of its texts, never in the URL."""
    return actions.read_conversation(context, staff.actor, inbound_id)


# Texting a caller back is the scheduler's work: the same staff who book visits by text.
@router.post(
    "/api/messages/inbound/{inbound_id}/reply", status_code=201, response_model=ConversationOut
)
def reply(
    inbound_id: InboundId, body: ReplyIn, staff: Scheduler, context: ContextDep
) -> ConversationOut:
    """Text the caller back at the number this text came from (no links; quiet hours
    hold it; refused once the number has said STOP)."""
    return actions.reply(context, staff.actor, inbound_id, body)
