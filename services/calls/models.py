"""Calls and the raw voice webhook events they are built from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class Call(Base):
    """One call leg as Twilio reported it.

    Numbers are personal data: they are stored sealed (``*_sealed``, AES-256-GCM bound to
    this table, column and CallSid) with a blind index (``*_index``) for exact search.
    A caller ID that could not be read as a number is kept sealed in ``from_unparsed``.
    """

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_from_index", "from_index"),
        Index("ix_calls_to_index", "to_index"),
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_parent_call_sid", "parent_call_sid"),
        Index("ix_calls_agent_started_at", "agent", "started_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    parent_call_sid: Mapped[str | None] = mapped_column(String(64))
    account_sid: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str | None] = mapped_column(String(32))

    from_sealed: Mapped[bytes | None]
    from_index: Mapped[bytes | None]
    from_unparsed: Mapped[bytes | None]
    caller_withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    to_sealed: Mapped[bytes | None]
    to_index: Mapped[bytes | None]
    caller_name_sealed: Mapped[bytes | None]

    status: Mapped[str] = mapped_column(String(32))
    # The winning event's place in the order of call progress, so that a later-arriving
    # earlier event can never move a call back (see services.calls.progress).
    status_rank: Mapped[int] = mapped_column(Integer)
    status_sequence: Mapped[int] = mapped_column(Integer)
    status_at: Mapped[datetime]
    extension: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    # The username of the staff member who answered: set on the dialled leg whose To is
    # their destination, and on the caller's leg it belongs to; null until answered.
    agent: Mapped[str | None] = mapped_column(String(64))

    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CallEvent(Base):
    """One voice webhook as received: the raw webhook log (no numbers, no names).

    The unique key makes Twilio's retries and duplicates land once.
    """

    __tablename__ = "call_events"
    __table_args__ = (
        UniqueConstraint("call_sid", "source", "status", "sequence_number"),
        Index("ix_call_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    sequence_number: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    duration_seconds: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(String(64))
