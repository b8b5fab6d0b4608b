"""Retention schedules and legal holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


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
