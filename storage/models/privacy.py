"""Retention schedules, legal holds, access-and-correction requests, disclosures and the
app's own access log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import BIG_ID, Base


class RetentionSchedule(Base):
    """How long one class of records is kept: ``amount`` ``unit`` (days, months, years),
    counted from the record's own clock (creation, closure, end of the call...)."""

    __tablename__ = "retention_schedules"

    record_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class LegalHold(Base):
    """Data that must not be destroyed while the hold stands.

    ``target_type`` is request, call, recording (``target_ref`` its public id or SID) or
    person: then ``person_kind`` names the key (phone, email, name, address), the term is
    sealed, and everything found by that key at purge time is held.
    """

    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_target", "target_type", "target_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    target_type: Mapped[str] = mapped_column(String(16))
    target_ref: Mapped[str | None] = mapped_column(String(64))
    person_kind: Mapped[str | None] = mapped_column(String(16))
    person_sealed: Mapped[bytes | None]
    reason: Mapped[str] = mapped_column(Text)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    placed_at: Mapped[datetime]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    released_at: Mapped[datetime | None] = mapped_column(index=True)
    release_reason: Mapped[str | None] = mapped_column(Text)


class PrivacyRequest(Base):
    """A person's request to see, or correct, what the city holds about them.

    The requester's details (name, phone, email, address) are sealed as one JSON value;
    ``identity_evidence`` says what was checked, never a copy of the document.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status_due", "status", "respond_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    received_on: Mapped[date]
    channel: Mapped[str] = mapped_column(String(16))
    kinds: Mapped[list[str]] = mapped_column(default=list)
    identity_evidence: Mapped[str] = mapped_column(Text)
    requester_sealed: Mapped[bytes]
    status: Mapped[str] = mapped_column(String(16))
    respond_by: Mapped[date]
    acknowledged_on: Mapped[date | None]
    decision_by: Mapped[date | None]
    decided_on: Mapped[date | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Disclosure(Base):
    """One disclosure of records outside the city, with its legal basis and approver."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    disclosed_at: Mapped[datetime] = mapped_column(index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    records: Mapped[list[Any]] = mapped_column(default=list)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]


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
