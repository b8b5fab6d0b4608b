"""Staff API for the call log: thin routes that validate, call the service, audit, return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.calls import service
from services.calls.schemas import CallFilters, CallList, CallOut, CallPage, CallSearch
from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import ContextDep
from services.platform.errors import InvalidField, NotFound
from services.platform.phones import InvalidPhoneNumber, normalise

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.post("/search", response_model=CallList)
def search_calls(
    body: CallSearch,
    staff: Annotated[Staff, Depends(require(Permission.CALLS_READ))],
    context: ContextDep,
) -> CallList:
    """Calls from or to a phone number, newest first. The search is audited, not the number."""
    try:
        phone = normalise(body.phone, context.region)
    except InvalidPhoneNumber as exc:
        raise InvalidField("phone", str(exc)) from exc
    with context.db.begin() as session:
        calls = service.search_calls(
            session,
            context.keyring,
            phone_e164=phone,
            extension=body.extension,
            since=body.since,
            until=body.until,
        )
        items = [CallOut.of(call, context.keyring, context.city_tz) for call in calls]
        audit.record(
            session,
            actor=staff.actor,
            action="calls.search",
            at=context.clock.now(),
            object_type="call",
            detail={
                "phone_hash": context.keyring.keyed_hash("audit-search", phone),
                "results": len(items),
            },
        )
    return CallList(items=items)


@router.get("", response_model=CallPage)
def list_calls(
    staff: Annotated[Staff, Depends(require(Permission.CALLS_READ))],
    context: ContextDep,
    filters: Annotated[CallFilters, Query()],
) -> CallPage:
    """The call log newest first, by date range, extension and status; pass
    ``next_before_id`` back as ``before_id`` for the next page. The listing is audited."""
    with context.db.begin() as session:
        calls = service.list_calls(session, service.CallFilter(**filters.model_dump()))
        items = [CallOut.of(call, context.keyring, context.city_tz) for call in calls]
        audit.record(
            session,
            actor=staff.actor,
            action="calls.list",
            at=context.clock.now(),
            object_type="call",
            detail={
                "results": len(items),
                "filters": sorted(
                    name
                    for name, value in filters.model_dump(exclude={"limit"}).items()
                    if value is not None
                ),
            },
        )
    next_id = calls[-1].id if len(calls) == filters.limit else None
    return CallPage(items=items, next_before_id=next_id)


@router.get("/{call_sid}", response_model=CallOut)
def get_call(
    call_sid: str,
    staff: Annotated[Staff, Depends(require(Permission.CALLS_READ))],
    context: ContextDep,
) -> CallOut:
    """One call leg by its CallSid."""
    with context.db.begin() as session:
        call = service.get_call(session, call_sid[:64])
        audit.record(
            session,
            actor=staff.actor,
            action="call.view",
            at=context.clock.now(),
            outcome="ok" if call is not None else "not_found",
            object_type="call",
            object_id=call_sid[:64],
        )
        found = None if call is None else CallOut.of(call, context.keyring, context.city_tz)
    if found is None:  # raised after the commit, so the look-up stays audited
        raise NotFound("call")
    return found
