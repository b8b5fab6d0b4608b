"""Recording voice webhook events into the call log, and reading the log back for staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from services.calls.models import Call, CallEvent
from services.calls.progress import TERMINAL_STATUSES, CallProgress, ProgressEvent
from services.directory.models import CallOffer
from services.platform.phones import CallerId, read_caller_id
from services.platform.queries import in_period
from storage.crypto import FieldContext, Keyring
from storage.upsert import insert_many_ignoring_conflicts

MAX_SEARCH_RESULTS = 200


@dataclass(frozen=True)
class VoiceEvent:
    """One voice webhook in the city's words; ``telephony`` builds it from Twilio's form."""

    call_sid: str
    source: str  # "voice", "gather", "status" or "dial"
    status: str
    sequence: int
    occurred_at: datetime
    received_at: datetime
    parent_call_sid: str | None = None
    account_sid: str | None = None
    direction: str | None = None
    from_raw: str | None = None
    to_raw: str | None = None
    caller_name: str | None = None
    duration_seconds: int | None = None
    detail: str | None = None

    @property
    def progress(self) -> ProgressEvent:
        return ProgressEvent(self.status, self.sequence, self.occurred_at, self.duration_seconds)


def _field(column: str, call_sid: str) -> FieldContext:
    return FieldContext("calls", column, call_sid)


def _sealed_party(
    keyring: Keyring, caller_id: CallerId, column: str, call_sid: str
) -> dict[str, bytes | None]:
    sealed = index = unparsed = None
    if caller_id.e164 is not None:
        sealed = keyring.seal(caller_id.e164, _field(column, call_sid))
        index = keyring.blind_index("phone", caller_id.e164)
    elif caller_id.unparsed is not None:
        unparsed = keyring.seal(caller_id.unparsed, _field(f"{column}_unparsed", call_sid))
    return {"sealed": sealed, "index": index, "unparsed": unparsed}


def _new_call_values(
    keyring: Keyring, event: VoiceEvent, *, region: str, progress: CallProgress
) -> dict[str, object]:
    caller = read_caller_id(event.from_raw, region)
    callee = read_caller_id(event.to_raw, region)
    from_party = _sealed_party(keyring, caller, "from", event.call_sid)
    to_party = _sealed_party(keyring, callee, "to", event.call_sid)
    name = (event.caller_name or "").strip()
    return {
        "call_sid": event.call_sid,
        "parent_call_sid": event.parent_call_sid,
        "account_sid": event.account_sid,
        "direction": event.direction,
        "from_sealed": from_party["sealed"],
        "from_index": from_party["index"],
        "from_unparsed": from_party["unparsed"],
        "caller_withheld": caller.withheld,
        "to_sealed": to_party["sealed"],
        "to_index": to_party["index"],
        # A withheld caller's CNAM would identify them all the same; keep none.
        "caller_name_sealed": (
            keyring.seal(name[:128], _field("caller_name", event.call_sid))
            if name and not caller.withheld
            else None
        ),
        "status": progress.status,
        "status_rank": progress.status_rank,
        "status_sequence": progress.status_sequence,
        "status_at": progress.status_at,
        "started_at": progress.started_at,
        "answered_at": progress.answered_at,
        "ended_at": progress.ended_at,
        "duration_seconds": progress.duration_seconds,
        "created_at": event.received_at,
        "updated_at": event.received_at,
    }


_CALLS: Table = Call.__table__  # type: ignore[assignment]
_EVENTS: Table = CallEvent.__table__  # type: ignore[assignment]
_EVENT_KEY = ("call_sid", "source", "status", "sequence_number")
_PROGRESS_COLUMNS = (
    "status",
    "status_rank",
    "status_sequence",
    "status_at",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
)
_MERGED_COLUMNS = (*_PROGRESS_COLUMNS, "updated_at", "parent_call_sid", "direction", "extension")
# Built once: the webhook path executes them with plain parameters, skipping the ORM.
_LOCK_CALLS = (
    select(_CALLS.c.id, _CALLS.c.call_sid, *(_CALLS.c[name] for name in _MERGED_COLUMNS))
    .where(_CALLS.c.call_sid.in_(bindparam("sids", expanding=True)))
    .order_by(_CALLS.c.call_sid)  # one lock order for every process: no deadlocks
    .with_for_update()
)
_EXTENSIONS_OF = select(_CALLS.c.call_sid, _CALLS.c.extension).where(
    _CALLS.c.call_sid.in_(bindparam("sids", expanding=True))
)
_UPDATE_CALL = _CALLS.update().where(_CALLS.c.id == bindparam("row_id"))


def _event_row(event: VoiceEvent) -> dict[str, object]:
    return {
        "call_sid": event.call_sid,
        "source": event.source,
        "status": event.status,
        "sequence_number": event.sequence,
        "occurred_at": event.occurred_at,
        "received_at": event.received_at,
        "duration_seconds": event.duration_seconds,
        "detail": event.detail,
    }


def _event_key(row: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(row[name]) for name in _EVENT_KEY)


def _merge(record: dict[str, Any], event: VoiceEvent, parent_extension: str | None) -> None:
    """Fold ``event`` into a call record held as a column dictionary."""
    merged = CallProgress(**{name: record[name] for name in _PROGRESS_COLUMNS}).apply(
        event.progress
    )
    record.update({name: getattr(merged, name) for name in _PROGRESS_COLUMNS})
    record["updated_at"] = max(record["updated_at"], event.received_at)
    record["parent_call_sid"] = record["parent_call_sid"] or event.parent_call_sid
    record["direction"] = record["direction"] or event.direction
    record["extension"] = record["extension"] or parent_extension


def record_call_events(
    session: Session, keyring: Keyring, events: Sequence[VoiceEvent], *, region: str
) -> list[bool]:
    """Store voice webhooks and fold each into its call's record.

    Returns, for each event, False when the very same event was already recorded (a
    Twilio retry or a duplicate), which then changes nothing. Works set-wise: a few
    statements for the whole list, whatever its length. Safe with other processes
    writing the same calls: the rows are locked in one order while they are merged.
    """
    connection = session.connection()
    # The unique key drops what was stored before; RETURNING says what was new.
    stored = insert_many_ignoring_conflicts(
        connection,
        _EVENTS,
        # In key order: concurrent batches then take unique-index locks in one order.
        sorted((_event_row(event) for event in events), key=_event_key),
        conflict_columns=_EVENT_KEY,
        returning=_EVENT_KEY,
    )
    outcome: list[bool] = []
    fresh: list[VoiceEvent] = []
    for event in events:
        key = (event.call_sid, event.source, event.status, event.sequence)
        outcome.append(key in stored)
        if key in stored:
            stored.discard(key)  # a second copy in the same batch is a duplicate
            fresh.append(event)
    pending = fresh
    while pending:  # twice at most: see the end of the loop
        pending = _fold(connection, keyring, pending, region=region)
    return outcome


def _fold(
    connection: Connection, keyring: Keyring, events: Sequence[VoiceEvent], *, region: str
) -> list[VoiceEvent]:
    """Merge ``events`` into their calls; return those whose call another process created
    meanwhile, to be merged again into that process's row."""
    sids = sorted({event.call_sid for event in events})
    existing = {
        row.call_sid: dict(row._mapping) for row in connection.execute(_LOCK_CALLS, {"sids": sids})
    }
    # Only a leg that does not yet know its department asks its parent.
    parents = sorted(
        {
            event.parent_call_sid
            for event in events
            if event.parent_call_sid
            and (existing.get(event.call_sid) or {"extension": None})["extension"] is None
        }
    )
    extensions = (
        {
            row.call_sid: row.extension
            for row in connection.execute(_EXTENSIONS_OF, {"sids": parents})
        }
        if parents
        else {}
    )
    created: dict[str, dict[str, Any]] = {}

    def extension_of(parent: str | None) -> str | None:
        if parent is None:
            return None
        record = existing.get(parent) or created.get(parent)
        return (record or {}).get("extension") or extensions.get(parent)

    for event in events:
        record = existing.get(event.call_sid) or created.get(event.call_sid)
        if record is None:
            created[event.call_sid] = _new_call_values(
                keyring, event, region=region, progress=CallProgress.first(event.progress)
            ) | {"extension": extension_of(event.parent_call_sid)}
        else:
            _merge(record, event, extension_of(record["parent_call_sid"] or event.parent_call_sid))
    if existing:
        connection.execute(
            _UPDATE_CALL,
            [
                {"row_id": record["id"], **{name: record[name] for name in _MERGED_COLUMNS}}
                for record in existing.values()
            ],
        )
    inserted = insert_many_ignoring_conflicts(
        connection,
        _CALLS,
        [created[sid] for sid in sorted(created)],
        conflict_columns=["call_sid"],
        returning=["call_sid"],
    )
    lost = created.keys() - {sid for (sid,) in inserted}
    return [event for event in events if event.call_sid in lost]


def record_call_event(
    session: Session, keyring: Keyring, event: VoiceEvent, *, region: str
) -> bool:
    """Store one voice webhook (see ``record_call_events``); False for a duplicate."""
    return record_call_events(session, keyring, [event], region=region)[0]


@dataclass(frozen=True)
class CallLog:
    """The call log's writer for one keyring and region, as a group-commit batch handler.

    Two instances with the same keyring and region are equal, so their events are
    written together.
    """

    keyring: Keyring
    region: str

    def record(self, session: Session, events: list[VoiceEvent]) -> list[bool]:
        return record_call_events(session, self.keyring, events, region=self.region)


def choose_extension(
    session: Session, *, call_sid: str, extension: str, language: str, now: datetime
) -> None:
    """The caller picked a department: it becomes the call's extension (and its legs')."""
    session.execute(
        update(Call)
        .where(or_(Call.call_sid == call_sid, Call.parent_call_sid == call_sid))
        .values(extension=extension, language=language, updated_at=now)
    )


def set_language(session: Session, *, call_sid: str, language: str, now: datetime) -> None:
    session.execute(
        update(Call).where(Call.call_sid == call_sid).values(language=language, updated_at=now)
    )


def get_call(session: Session, call_sid: str) -> Call | None:
    return session.scalar(select(Call).where(Call.call_sid == call_sid))


def search_calls(
    session: Session,
    keyring: Keyring,
    *,
    phone_e164: str,
    extension: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = MAX_SEARCH_RESULTS,
) -> list[Call]:
    """Calls from or to ``phone_e164``, newest first.

    Candidates come from the blind index; each is decrypted and compared, so an index
    collision can never return somebody else's call.
    """
    index = keyring.blind_index("phone", phone_e164)
    query = select(Call).where(or_(Call.from_index == index, Call.to_index == index))
    if extension is not None:
        query = query.where(Call.extension == extension)
    query = in_period(query, Call.started_at, since, until)
    query = query.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
    return [
        call
        for call in session.scalars(query)
        if phone_e164 in (party_number(keyring, call, "from"), party_number(keyring, call, "to"))
    ]


@dataclass(frozen=True)
class CallFilter:
    """What a supervisor narrows the call log by: no personal data, so it may sit in a URL."""

    since: datetime | None = None
    until: datetime | None = None
    extension: str | None = None
    status: str | None = None
    agent: str | None = None
    before_id: int | None = None
    limit: int = 50


def list_calls(session: Session, query: CallFilter) -> list[Call]:
    """Calls newest first (by row, so paging with ``before_id`` is stable)."""
    return filtered_calls(session, select(Call), query)


def filtered_calls(session: Session, statement: Select[Call], query: CallFilter) -> list[Call]:
    """The calls of ``statement`` that ``query`` keeps, newest first, one page of them."""
    statement = in_period(statement, Call.started_at, query.since, query.until)
    if query.extension is not None:
        statement = statement.where(Call.extension == query.extension)
    if query.status is not None:
        statement = statement.where(Call.status == query.status)
    if query.agent is not None:
        statement = statement.where(Call.agent == query.agent.strip().lower())
    if query.before_id is not None:
        statement = statement.where(Call.id < query.before_id)
    return list(session.scalars(statement.order_by(Call.id.desc()).limit(query.limit)))


def ringing_calls(
    session: Session,
    *,
    extension: str | None,
    since: datetime,
    offered_to: int | None = None,
    limit: int = 10,
) -> list[Call]:
    """Callers' legs that started after ``since`` and have not ended: the calls a screen
    pop shows. With ``offered_to`` (a staff id), those offered to that person; else those
    on ``extension`` that ring the department rather than one agent. Read from the
    database, so any web process finds them."""
    open_offers = select(CallOffer.call_sid).where(
        CallOffer.ended_at.is_(None), CallOffer.offered_at >= since
    )
    query = select(Call).where(
        Call.parent_call_sid.is_(None),
        Call.ended_at.is_(None),
        Call.status.not_in(TERMINAL_STATUSES),
        Call.started_at >= since,
    )
    if offered_to is not None:
        query = query.where(Call.call_sid.in_(open_offers.where(CallOffer.user_id == offered_to)))
    else:
        query = query.where(
            Call.extension == extension,
            Call.call_sid.not_in(open_offers.where(CallOffer.user_id.is_not(None))),
        )
    return list(session.scalars(query.order_by(Call.started_at, Call.id).limit(limit)))


def answered_among(session: Session, call_sids: Sequence[str]) -> set[str]:
    """Those of the callers' legs ``call_sids`` that someone has picked up: a dialled leg
    of theirs was answered and has not ended."""
    if not call_sids:
        return set()
    rows = session.scalars(
        select(Call.parent_call_sid).where(
            Call.parent_call_sid.in_(list(call_sids)),
            Call.answered_at.is_not(None),
            Call.ended_at.is_(None),
            Call.status.not_in(TERMINAL_STATUSES),
        )
    )
    return {sid for sid in rows if sid is not None}


def party_number(keyring: Keyring, call: Call, column: str) -> str | None:
    """The E.164 number of one side of the call (``from`` or ``to``), if it has one."""
    sealed = call.from_sealed if column == "from" else call.to_sealed
    return None if sealed is None else keyring.open(sealed, _field(column, call.call_sid))


def unparsed_caller_id(keyring: Keyring, call: Call) -> str | None:
    if call.from_unparsed is None:
        return None
    return keyring.open(call.from_unparsed, _field("from_unparsed", call.call_sid))


def caller_name(keyring: Keyring, call: Call) -> str | None:
    if call.caller_name_sealed is None:
        return None
    return keyring.open(call.caller_name_sealed, _field("caller_name", call.call_sid))
