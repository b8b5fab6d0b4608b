"""Emails sent to callers, and the addresses mail no longer goes to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class OutgoingEmail(Base):
    """One email to one person (an update on a request, a sign-up's confirmation).
    ``idempotency_key`` names what it is for, so the same notice is never queued twice.
    The address and the text are sealed; news alerts are not kept here, one row each
    (see services/alerts)."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index("ix_outgoing_emails_state_due", "state", "not_before"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # update, confirmation
    to_sealed: Mapped[bytes]
    to_index: Mapped[bytes] = mapped_column(index=True)
    subject_sealed: Mapped[bytes]
    body_sealed: Mapped[bytes]
    unsubscribe_url: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2))
    # queued, sending, sent, failed, cancelled
    state: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    gateway: Mapped[str | None] = mapped_column(String(16))
    failure: Mapped[str | None] = mapped_column(String(120))
    sending_since: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EmailSuppression(Base):
    """An address no mail goes to: it bounced for good, or its owner complained."""

    __tablename__ = "email_suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_index: Mapped[bytes] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(String(16))  # hard_bounce, complaint
    recorded_at: Mapped[datetime]
