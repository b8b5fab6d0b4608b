"""Texts sent to callers, their opt-outs, and texts callers send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.outbox import OutboxColumns
from storage.base import BIG_ID, Base


class TextMessage(OutboxColumns, Base):
    """An outgoing text. ``idempotency_key`` names what it is for (appointment, kind,
    version), so the same notice is never queued, nor sent, twice. Its ``state``: queued,
    held (quiet hours), sending, sent, delivered, undelivered, failed or cancelled."""

    __tablename__ = "text_messages"
    __table_args__ = (Index("ix_text_messages_state_due", "state", "not_before"),)

    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    twilio_status: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))


class TextOptOut(Base):
    """A number that said STOP (or that Twilio reports as unsubscribed), by blind index."""

    __tablename__ = "text_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_index: Mapped[bytes] = mapped_column(unique=True)
    opted_out: Mapped[bool]
    source: Mapped[str] = mapped_column(String(16))  # keyword, carrier
    changed_at: Mapped[datetime]
    # When the carrier received the keyword (or reported the opt-out) that decided the
    # state: an older STOP or START arriving late never overrides a newer one.
    decided_at: Mapped[datetime | None]


class InboundText(Base):
    """A text a caller sent, not a keyword: kept sealed, SSN-like numbers redacted."""

    __tablename__ = "inbound_texts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_sealed: Mapped[bytes]
    from_index: Mapped[bytes] = mapped_column(index=True)
    body_sealed: Mapped[bytes]
    keyword: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(index=True)
