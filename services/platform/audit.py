"""The audit trail: one call, ``record``, for every audited act.

Entries form a hash chain: each carries the SHA-256 of the previous entry's hash and its
own canonical fields. The chain's tip lives in a one-row table that every append locks,
so appends from many processes stay in one order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.platform.models import AuditChainHead, AuditEntry, AuditSeal
from services.platform.queries import in_period
from storage.upsert import insert_ignoring_conflicts

GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1


@dataclass(frozen=True)
class Actor:
    """Who did it. ``user_id`` is None for the system itself and for anonymous callers."""

    user_id: int | None
    username: str | None
    role: str | None
    request_id: str | None = None


SYSTEM = Actor(user_id=None, username="system", role=None)


def entry_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    """The fields an entry's hash covers, as they read back from the database."""
    return {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "detail": entry.detail,
    }


def ensure_chain(session: Session) -> None:
    """Create the chain's tip row if this database has none yet."""
    insert_ignoring_conflicts(
        session,
        AuditChainHead,
        {"id": CHAIN_HEAD_ID, "seq": 0, "entry_hash": GENESIS_HASH},
        conflict_columns=["id"],
    )


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    at: datetime,
    outcome: str = "ok",
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction; it commits or rolls back with it.

    ``detail`` holds ids, counts and keyed hashes only, never personal data.
    """
    head = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.entry_hash)
    ).one_or_none()
    if head is None:
        ensure_chain(session)
        return record(
            session,
            actor=actor,
            action=action,
            at=at,
            outcome=outcome,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
    seq, prev_hash = head
    entry = AuditEntry(
        seq=seq,
        occurred_at=at,
        actor_id=actor.user_id,
        actor_name=actor.username,
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        request_id=actor.request_id,
        detail=dict(detail or {}),
        prev_hash=prev_hash,
        entry_hash="",
    )
    entry.entry_hash = entry_digest(prev_hash, hashed_fields(entry))
    session.add(entry)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .values(entry_hash=entry.entry_hash)
    )
    session.flush()
    return entry


# -- month seals --------------------------------------------------------------------


def month_of(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m")


def _month_start(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=UTC)


month_start = _month_start


def _next_month(month: str) -> str:
    start = _month_start(month)
    return month_of((start + timedelta(days=32)).replace(day=1))


def seal_digest(prev_seal_hash: str, seal: AuditSeal) -> str:
    fields = {
        "month": seal.month,
        "first_seq": seal.first_seq,
        "last_seq": seal.last_seq,
        "entries": seal.entries,
        "first_prev_hash": seal.first_prev_hash,
        "last_hash": seal.last_hash,
    }
    return entry_digest(prev_seal_hash, fields)


def seal_months(session: Session, *, now: datetime) -> list[str]:
    """Seal every complete month (in UTC) not yet sealed; returns the months sealed.

    A seal records the month's span of the chain and its last hash, and is itself chained
    to the previous seal, so whole months can later be purged without breaking
    verification of what remains.
    """
    sealed: list[str] = []
    current = month_of(now)
    while True:
        last = session.scalars(select(AuditSeal).order_by(AuditSeal.month.desc()).limit(1)).first()
        after_seq = last.last_seq if last else 0
        first = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after_seq).order_by(AuditEntry.seq).limit(1)
        ).first()
        if first is None:
            return sealed
        month = month_of(first.occurred_at)
        if last is not None and month <= last.month:
            month = _next_month(last.month)
        if month >= current:
            return sealed
        end = _month_start(_next_month(month))
        tail = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > after_seq, AuditEntry.occurred_at < end)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).first()
        assert tail is not None  # first itself qualifies
        seal = AuditSeal(
            month=month,
            first_seq=first.seq,
            last_seq=tail.seq,
            entries=tail.seq - first.seq + 1,
            first_prev_hash=first.prev_hash,
            last_hash=tail.entry_hash,
            prev_seal_hash=last.seal_hash if last else GENESIS_HASH,
            seal_hash="",
            sealed_at=now,
        )
        seal.seal_hash = seal_digest(seal.prev_seal_hash, seal)
        session.add(seal)
        session.flush()
        sealed.append(month)


def seal_overdue(session: Session, *, now: datetime) -> float:
    """Seconds since the first complete month with unsealed entries ended (0 when every
    complete month is sealed): what the "audit seal overdue" alert watches."""
    last = session.scalars(select(AuditSeal).order_by(AuditSeal.month.desc()).limit(1)).first()
    after_seq = last.last_seq if last else 0
    first = session.scalars(
        select(AuditEntry).where(AuditEntry.seq > after_seq).order_by(AuditEntry.seq).limit(1)
    ).first()
    if first is None:
        return 0.0
    month = month_of(first.occurred_at)
    if last is not None and month <= last.month:
        month = _next_month(last.month)
    ended = _month_start(_next_month(month))
    return max(0.0, (now - ended).total_seconds())


def purge_sealed_months(session: Session, *, before: str, now: datetime) -> int:
    """Delete the entries of sealed months earlier than ``before`` ("YYYY-MM"), keeping
    their seals; returns how many entries went. Months not yet sealed are left alone."""
    deleted = 0
    seals = session.scalars(
        select(AuditSeal)
        .where(AuditSeal.month < before, AuditSeal.purged_at.is_(None))
        .order_by(AuditSeal.month)
    ).all()
    for seal in seals:
        result = session.execute(
            delete(AuditEntry).where(AuditEntry.seq.between(seal.first_seq, seal.last_seq))
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
        seal.purged_at = now
    session.flush()
    return deleted


@dataclass(frozen=True)
class VerifyResult:
    intact: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


class _Broken(Exception):
    def __init__(self, seq: int | None, reason: str, checked: int = 0) -> None:
        super().__init__(reason)
        self.result = VerifyResult(False, checked, seq, reason)


def _check_seals(seals: list[AuditSeal]) -> tuple[str, int]:
    """Check the seals' own chain; return where the remaining entries must pick up (the
    hash and seq after the leading purged months)."""
    prev_seal = GENESIS_HASH
    for seal in seals:
        if seal.prev_seal_hash != prev_seal or seal.seal_hash != seal_digest(prev_seal, seal):
            raise _Broken(seal.first_seq, f"the seal of {seal.month} was altered")
        prev_seal = seal.seal_hash
    prev_hash, expected_seq = GENESIS_HASH, 1
    for seal in seals:
        if seal.purged_at is None:
            break
        if seal.first_seq != expected_seq or seal.first_prev_hash != prev_hash:
            raise _Broken(seal.first_seq, f"the seal of {seal.month} does not follow")
        prev_hash, expected_seq = seal.last_hash, seal.last_seq + 1
    return prev_hash, expected_seq


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Check the seals' chain, then walk the entries that remain in order; report the
    first entry that was changed, removed or moved."""
    seals = list(session.scalars(select(AuditSeal).order_by(AuditSeal.month)))
    try:
        prev_hash, expected_seq = _check_seals(seals)
        stray = session.scalar(select(AuditEntry.seq).where(AuditEntry.seq < expected_seq).limit(1))
        if stray is not None:
            raise _Broken(stray, "an entry of a purged month is still present")
        ends = {seal.last_seq: seal for seal in seals if seal.purged_at is None}
        checked, last_seq = 0, expected_seq - 1
        while rows := session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all():
            for entry in rows:
                if entry.seq != expected_seq:
                    raise _Broken(expected_seq, "entry missing", checked)
                if entry.prev_hash != prev_hash:
                    raise _Broken(entry.seq, "does not follow the previous entry", checked)
                if entry.entry_hash != entry_digest(prev_hash, hashed_fields(entry)):
                    raise _Broken(entry.seq, "entry was altered", checked)
                ending = ends.get(entry.seq)
                if ending is not None and ending.last_hash != entry.entry_hash:
                    raise _Broken(entry.seq, f"differs from the seal of {ending.month}", checked)
                prev_hash, expected_seq, last_seq = entry.entry_hash, entry.seq + 1, entry.seq
                checked += 1
            session.expunge_all()
        head = session.get(AuditChainHead, CHAIN_HEAD_ID)
        if head is not None and (head.seq != last_seq or head.entry_hash != prev_hash):
            raise _Broken(last_seq + 1, "entries after this point were removed", checked)
    except _Broken as broken:
        return broken.result
    return VerifyResult(True, checked)


# -- reading the trail -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    actor_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


def search(session: Session, query: AuditQuery) -> list[AuditEntry]:
    """Entries matching ``query``, newest first; page on with ``before_seq``."""
    statement = select(AuditEntry)
    if query.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == query.actor_id)
    if query.action is not None:
        statement = statement.where(AuditEntry.action == query.action)
    if query.object_type is not None:
        statement = statement.where(AuditEntry.object_type == query.object_type)
    if query.object_id is not None:
        statement = statement.where(AuditEntry.object_id == query.object_id)
    statement = in_period(statement, AuditEntry.occurred_at, query.since, query.until)
    if query.before_seq is not None:
        statement = statement.where(AuditEntry.seq < query.before_seq)
    return list(session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(query.limit)))
