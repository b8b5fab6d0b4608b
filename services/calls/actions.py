"""The call log, one function per use case: each opens its unit of work, reads through the
service, and leaves its audit entry (also when the call is not there). The staff API and
the console call these; neither opens a transaction or writes an audit entry itself.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from services.calls import log, service
from services.calls.models import Call
from services.calls.schemas import (
    CallFilters,
    CallList,
    CallLogPage,
    CallLogRow,
    CallLogSearch,
    CallOut,
    CallPage,
    CallSearch,
    ContactLineOut,
)
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField, existing
from services.platform.phones import InvalidPhoneNumber, normalise
from services.platform.resources import resource

# A call still ringing (not ended) is one that started at most this long ago: a leg whose
# end never reached us is not popped forever.
RINGING_WINDOW = timedelta(minutes=15)


def _out(context: AppContext, call: Call) -> CallOut:
    return CallOut.of(call, context.keyring, context.city_tz)


def search_calls(context: AppContext, actor: Actor, search: CallSearch) -> CallList:
    """Calls from or to a phone number, newest first. The search is audited with a keyed
    hash of the number, never the number."""
    with unit_of_work(context, actor, "calls.search", object_type="call") as work:
        try:
            phone = normalise(search.phone, context.region)
        except InvalidPhoneNumber as exc:
            raise InvalidField("phone", str(exc)) from exc
        work.note(phone_hash=context.keyring.keyed_hash("audit-search", phone))
        calls = service.search_calls(
            work.session,
            context.keyring,
            phone_e164=phone,
            extension=search.extension,
            since=search.since,
            until=search.until,
        )
        work.note(results=len(calls))
        return CallList(items=[_out(context, call) for call in calls])


def list_calls(context: AppContext, actor: Actor, filters: CallFilters) -> CallPage:
    """The call log newest first, by date range, extension and status, a page at a time.
    The listing is audited with the names of the filters used, not their values."""
    with unit_of_work(context, actor, "calls.list", object_type="call") as work:
        calls = service.list_calls(work.session, service.CallFilter(**filters.model_dump()))
        work.note(
            results=len(calls),
            filters=sorted(
                name
                for name, value in filters.model_dump(exclude={"limit"}).items()
                if value is not None
            ),
        )
        return CallPage(
            items=[_out(context, call) for call in calls],
            next_before_id=calls[-1].id if len(calls) == filters.limit else None,
        )


def _log_rows(context: AppContext, session: Session, calls: list[Call]) -> list[CallLogRow]:
    links = log.links_of(session, calls)
    tz, keyring = context.city_tz, context.keyring
    rows = []
    for call in calls:
        found = links[call.call_sid]
        answered = found.taker_answered_at
        rows.append(
            resource(
                CallLogRow,
                call,
                from_number=service.party_number(keyring, call, "from"),
                caller_id_text=service.unparsed_caller_id(keyring, call),
                started_at=call.started_at.astimezone(tz),
                answered_at=None if answered is None else answered.astimezone(tz),
                wait_seconds=(
                    None
                    if answered is None
                    else max(0, round((answered - call.started_at).total_seconds()))
                ),
                ended_at=None if call.ended_at is None else call.ended_at.astimezone(tz),
                recordings=found.recordings,
                contacts=[
                    ContactLineOut(
                        id=line.id,
                        agent=line.agent,
                        resolution=line.resolution,
                        topics=list(line.topics),
                        topic_titles=list(line.topic_titles),
                    )
                    for line in found.contacts
                ],
                requests=found.requests,
            )
        )
    return rows


def call_log(context: AppContext, actor: Actor, filters: CallFilters) -> CallLogPage:
    """The call log one row per call (not per leg), newest first, with who answered and
    the call's recordings, contacts and requests. Audited with the names of the filters."""
    with unit_of_work(context, actor, "calls.list", object_type="call") as work:
        calls = log.list_calls(work.session, service.CallFilter(**filters.model_dump()))
        work.note(
            results=len(calls),
            per="call",
            filters=sorted(
                name
                for name, value in filters.model_dump(exclude={"limit"}).items()
                if value is not None
            ),
        )
        return CallLogPage(
            items=_log_rows(context, work.session, calls),
            next_before_id=calls[-1].id if len(calls) == filters.limit else None,
        )


def search_call_log(context: AppContext, actor: Actor, search: CallLogSearch) -> CallLogPage:
    """Calls from a number typed any way a person types it, one row per call. Audited
    with a keyed hash of the number, never the number."""
    with unit_of_work(context, actor, "calls.search", object_type="call") as work:
        try:
            phone = normalise(search.phone, context.region)
        except InvalidPhoneNumber as exc:
            raise InvalidField("phone", str(exc)) from exc
        work.note(phone_hash=context.keyring.keyed_hash("audit-search", phone), per="call")
        calls = log.search_calls(
            work.session, context.keyring, phone_e164=phone, since=search.since, until=search.until
        )
        work.note(results=len(calls))
        return CallLogPage(items=_log_rows(context, work.session, calls), next_before_id=None)


def read_call(context: AppContext, actor: Actor, call_sid: str) -> CallOut:
    """One call leg by its CallSid."""
    with unit_of_work(context, actor, "call.view", object_type="call", object_id=call_sid) as work:
        call = existing(service.get_call(work.session, call_sid), "call")
        return _out(context, call)


def answered_call_sids(context: AppContext, call_sids: list[str]) -> set[str]:
    """Those of the callers' legs ``call_sids`` that an agent has picked up and is still
    on. Only identifiers, as for ``ringing_call_sids``."""
    with context.db() as session:
        return service.answered_among(session, call_sids)


def ringing_call_sids(
    context: AppContext, *, extension: str | None, offered_to: int | None = None
) -> list[str]:
    """The CallSids of callers' legs ringing now, oldest first: those offered to the
    staff member ``offered_to`` (who has a destination of their own), or else those
    ringing the department on ``extension``. Only identifiers: each screen pop that
    shows a call's caller is its own audited act."""
    with context.db() as session:
        since = context.clock.now() - RINGING_WINDOW
        return [
            call.call_sid
            for call in service.ringing_calls(
                session, extension=extension, since=since, offered_to=offered_to
            )
        ]
