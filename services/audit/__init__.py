"""The audit trail: one call, ``record``, for every audited act.

Entries form a hash chain: each carries the SHA-256 of the previous entry's hash and its
own canonical fields. The chain's tip lives in a one-row table that every append locks,
so appends from many processes stay in one order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import AuditChainHead, AuditEntry
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


@dataclass(frozen=True)
class VerifyResult:
    intact: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first entry that was changed, removed or moved."""
    head = session.get(AuditChainHead, CHAIN_HEAD_ID)
    prev_hash, expected_seq, checked, last_seq = GENESIS_HASH, 1, 0, 0
    while True:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, "entry missing")
            if entry.prev_hash != prev_hash:
                return VerifyResult(False, checked, entry.seq, "does not follow the previous entry")
            if entry.entry_hash != entry_digest(prev_hash, hashed_fields(entry)):
                return VerifyResult(False, checked, entry.seq, "entry was altered")
            prev_hash, expected_seq, last_seq = entry.entry_hash, entry.seq + 1, entry.seq
            checked += 1
        session.expunge_all()
    if head is not None and (head.seq != last_seq or head.entry_hash != prev_hash):
        return VerifyResult(False, checked, last_seq + 1, "entries after this point were removed")
    return VerifyResult(True, checked)
