"""The platform's own tables: the hash-chained audit trail, the minimal access log and
the jobs the queue owes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class AuditEntry(Base):
    """One audited act. ``detail`` never holds personal data, only ids, counts and keyed hashes.

    ``entry_hash`` is HMAC-SHA-256, under a key derived from the master key, over
    ``prev_hash`` and this entry's canonical fields, so a changed, removed or reordered
    entry breaks the chain from that point on, and nobody without the key can mend it.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor_time", "actor_id", "occurred_at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None]
    actor_name: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """A single row holding the chain's tip; locking it serialises appends across processes."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    # "hmac-sha256" (keyed); "sha256" for a chain written before the key, until re-keyed.
    scheme: Mapped[str] = mapped_column(String(16))


class AuditSeal(Base):
    """A closed month of the audit trail: its span, its last hash, and a hash of the seal
    chained to the previous month's. Seals outlive the entries they cover, so a retention
    purge of whole old months leaves what remains verifiable."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # "2026-11"
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(BigInteger)
    first_prev_hash: Mapped[str] = mapped_column(String(64))
    last_hash: Mapped[str] = mapped_column(String(64))
    prev_seal_hash: Mapped[str] = mapped_column(String(64))
    seal_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime]
    purged_at: Mapped[datetime | None]


class AccessLogEntry(Base):
    """One HTTP request, as little as operations need: no query string, no body, no
    user, the client's network only (/24 or /48)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    client: Mapped[str] = mapped_column(String(64))


class QueuedJob(Base):
    """A job the queue owes: written with the state change that calls for it (the outbox),
    leased by the worker that runs it, deleted when it finishes.

    The queue (Redis or the SQLite file) only carries a job's id; this row is what
    survives a worker killed mid-job (its lease runs out and the job is queued again)
    and a queue that lost its contents (the row names the queue epoch it was pushed
    under, and a new epoch means the push is gone). ``payload`` holds ids and flags only.
    """

    __tablename__ = "queued_jobs"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # The job's name and canonical payload: the same job queued twice is one row.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # Not to be run before this; a retry's backoff moves it on.
    due_at: Mapped[datetime] = mapped_column(index=True)
    # The queue epoch it was last pushed under; None when the push failed.
    epoch: Mapped[str | None] = mapped_column(String(32))
    # Held by one worker until then, renewed while the job runs.
    lease_until: Mapped[datetime | None] = mapped_column(index=True)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
