"""Access-and-correction requests."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


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
