"""Staff API for the call log: routes that parse, call the action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.calls import actions
from services.calls.schemas import (
    CallFilters,
    CallList,
    CallLogPage,
    CallLogSearch,
    CallOut,
    CallPage,
    CallSearch,
)
from services.platform.auth import CallReader
from services.platform.context import ContextDep
from services.platform.params import CallSid

router = APIRouter(prefix="/api/calls", tags=["calls"])


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


@router.get("/log", response_model=CallLogPage)
def call_log(
    staff: CallReader, context: ContextDep, filters: Annotated[CallFilters, Query()]
) -> CallLogPage:
    """The call log one row per call (not per leg), newest first, with the agent who
    answered and the call's recordings, contacts and requests. Audited."""
    return actions.call_log(context, staff.actor, filters)


@router.post("/log/search", response_model=CallLogPage)
def search_call_log(body: CallLogSearch, staff: CallReader, context: ContextDep) -> CallLogPage:
    """Calls from a number in any common format, one row per call. The number travels in
    the body; the search is audited with a keyed hash of it."""
    return actions.search_call_log(context, staff.actor, body)


@router.get("/{call_sid}", response_model=CallOut)
def get_call(call_sid: CallSid, staff: CallReader, context: ContextDep) -> CallOut:
    """One call leg by its CallSid."""
    return actions.read_call(context, staff.actor, call_sid)
