"""What the call log holds about people: the numbers and caller names of every call leg,
sealed and blind-indexed; the raw webhook log holds no numbers or names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from services.calls.models import Call, CallEvent
from services.calls.service import party_number
from services.platform.personal_data import (
    CALLS,
    PHONES,
    RECORDINGS,
    ExportSection,
    Found,
    Indexed,
    PersonalData,
    PersonKey,
    PurgeStep,
    RecordClass,
    Sealed,
    Sweep,
    deleted,
    local_time,
    phone_terms,
    purge_older,
    sealed_fields,
)
from services.recordings.models import Recording
from services.requests.models import RequestCall
from storage.crypto import Keyring


def _find(session: Session, keyring: Keyring, keys: Sequence[PersonKey], found: Found) -> None:
    """Calls from the person's number, each confirmed by opening the sealed number."""
    for number in phone_terms(keys):
        index = keyring.blind_index("phone", number)
        found.add(PHONES, [index])
        found.add(
            CALLS,
            (
                call.call_sid
                for call in session.scalars(select(Call).where(Call.from_index == index))
                if party_number(keyring, call, "from") == number
            ),
        )


def _links(session: Session, found: Found) -> None:
    """A call reaches its other legs (the call taker's leg of a caller's call)."""
    found.link(session, CALLS, Call.parent_call_sid, CALLS, Call.call_sid)


def _export(session: Session, keyring: Keyring, found: Found, tz: ZoneInfo) -> list[dict[str, Any]]:
    """One row per call, as the person knows it: the legs a call rang (an agent's, a
    department's) are part of the call they belong to, not calls of their own."""
    calls = found.rows(session, CALLS, Call.call_sid, Call.started_at, Call.id)
    by_sid = {call.call_sid: call for call in calls}
    legs: dict[str, list[str]] = {}
    for call in calls:
        root = call.parent_call_sid if call.parent_call_sid in by_sid else call.call_sid
        legs.setdefault(root, [])
        if root != call.call_sid:
            legs[root].append(call.call_sid)
    return [
        {
            "call_sid": call.call_sid,
            "from": party_number(keyring, call, "from"),
            "started_at": local_time(call.started_at, tz),
            "answered_at": local_time(call.answered_at, tz),
            "ended_at": local_time(call.ended_at, tz),
            "duration_seconds": call.duration_seconds,
            "extension": call.extension,
            "status": call.status,
            "legs": legs[call.call_sid],
        }
        for call in calls
        if call.call_sid in legs
    ]


def _purge_webhook_log(sweep: Sweep) -> None:
    purge_older(
        sweep, "webhook_log", CallEvent, CallEvent.received_at, held=((CallEvent.call_sid, CALLS),)
    )


def _destroy_calls(session: Session, sids: list[str]) -> int:
    session.execute(delete(CallEvent).where(CallEvent.call_sid.in_(sids)))
    session.execute(delete(RequestCall).where(RequestCall.call_sid.in_(sids)))
    return deleted(session.execute(delete(Call).where(Call.call_sid.in_(sids))))


def _purge_calls(sweep: Sweep) -> None:
    """A call goes once no recording of it is left (recordings are kept by their own
    schedule, and evaluations keep theirs)."""
    recorded = select(Recording.call_sid)
    if sweep.dry_run:  # count as if the recordings due in this run were gone, as they would be
        recorded = recorded.where(
            or_(
                Recording.started_at >= sweep.cutoff("recordings"),
                Recording.recording_sid.in_(sweep.held[RECORDINGS]),
            )
        )
    ended = func.coalesce(Call.ended_at, Call.started_at)
    sweep.walk(
        "calls",
        select(Call.call_sid).where(ended < sweep.cutoff("calls"), Call.call_sid.not_in(recorded)),
        Call.call_sid,
        _destroy_calls,
        keep=lambda row: row[0] in sweep.held[CALLS],
    )


PERSONAL_DATA = PersonalData(
    feature="calls",
    sealed=(
        *sealed_fields(Call, Call.call_sid, "from", "to"),
        Sealed(Call.from_unparsed, "calls", "from_unparsed", Call.call_sid),
        *sealed_fields(Call, Call.call_sid, "caller_name"),
    ),
    indexes=(Indexed(Call.from_index, "phone"), Indexed(Call.to_index, "phone")),
    record_classes=(
        RecordClass(
            "webhook_log", "raw webhook log (call events)", "receipt", 1, "months", (1, "months")
        ),
        RecordClass("calls", "call metadata", "the call's end", 3, "years"),
    ),
    purge=(
        PurgeStep("webhook_log", 20, _purge_webhook_log),
        PurgeStep("calls", 80, _purge_calls),
    ),
    find=_find,
    links=_links,
    export=(
        ExportSection(
            "calls",
            "Calls",
            20,
            _export,
            columns=(
                ("started_at", "Started"),
                ("from", "From"),
                ("duration_seconds", "Length"),
                ("extension", "Extension"),
                ("status", "Status"),
            ),
        ),
    ),
)
