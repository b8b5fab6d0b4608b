"""Appointments booked for callers, confirmed by text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class Appointment(Base):
    """A visit booked for a service request, with the mobile number the caller gave for
    texts about it (sealed) and the record of their consent."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location_sealed: Mapped[bytes]
    department: Mapped[str] = mapped_column(String(120))
    phone_sealed: Mapped[bytes]
    phone_index: Mapped[bytes] = mapped_column(index=True)
    language: Mapped[str] = mapped_column(String(2))
    consent_at: Mapped[datetime]
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    consent_call_sid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # booked, cancelled
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
