"""Emails sent to callers, and the addresses mail no longer goes to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.outbox import OutboxColumns
from storage.base import Base


class OutgoingEmail(OutboxColumns, Base):
    """One email to one person (an update on a request, a sign-up's confirmation: its
    ``kind``). ``idempotency_key`` names what it is for, so the same notice is never
    queued twice. The address and the text are sealed; news alerts are not kept here,
    one row each (see services/alerts). Its ``state``: queued, sending, sent, failed or
    cancelled."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index("ix_outgoing_emails_state_due", "state", "not_before"),)

    subject_sealed: Mapped[bytes]
    unsubscribe_url: Mapped[str | None] = mapped_column(String(300))


class EmailSuppression(Base):
    """An address no mail goes to: it bounced for good, or its owner complained."""

    __tablename__ = "email_suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_index: Mapped[bytes] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(String(16))  # hard_bounce, complaint
    recorded_at: Mapped[datetime]
