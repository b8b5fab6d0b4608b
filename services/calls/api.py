"""Staff API for the call log: routes that parse, call the action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.calls import actions
from services.calls.schemas import CallFilters, CallList, CallOut, CallPage, CallSearch
from services.platform.auth import Permission, Staff, require
from services.platform.context import ContextDep
from services.platform.params import CallSid

router = APIRouter(prefix="/api/calls", tags=["calls"])
CallReader = Annotated[Staff, Depends(require(Permission.CALLS_READ))]


@router.post("/search", response_model=CallList)
def search_calls(body: CallSearch, staff: CallReader, context: ContextDep) -> CallList:
    """Calls from or to a phone number, newest first. The search is audited, not the number."""
    return actions.search_calls(context, staff.actor, body)


@router.get("", response_model=CallPage)
def list_calls(
    staff: CallReader, context: ContextDep, filters: Annotated[CallFilters, Query()]
) -> CallPage:
    """The call log newest first, by date range, extension and status; pass
    ``next_before_id`` back as ``before_id`` for the next page. The listing is audited."""
    return actions.list_calls(context, staff.actor, filters)


@router.get("/{call_sid}", response_model=CallOut)
def get_call(call_sid: CallSid, staff: CallReader, context: ContextDep) -> CallOut:
    """One call leg by its CallSid."""
    return actions.read_call(context, staff.actor, call_sid)
