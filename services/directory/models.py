"""The extension directory behind the IVR menu."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class Extension(Base):
    """A department in the IVR menu: the digit a caller presses and where the call goes."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digits: Mapped[str] = mapped_column(String(8), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_es: Mapped[str] = mapped_column(String(80))
    destination: Mapped[str] = mapped_column(String(255))
    record_calls: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CallOffer(Base):
    """One place a caller's call was offered: an agent (``user_id``) or the department's
    own destination (``user_id`` null), from the dial until its outcome. Routing skips
    those already tried, and the screen pop shows a call to the agent it is offered to."""

    __tablename__ = "call_offers"
    __table_args__ = (
        Index("ix_call_offers_call_sid", "call_sid", "offered_at"),
        Index("ix_call_offers_user_open", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    extension: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(255))
    offered_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # answered, no-answer, busy, failed or canceled (Twilio's DialCallStatus).
    outcome: Mapped[str | None] = mapped_column(String(16))


class IvrLine(Base):
    """What administrators changed of how the line answers: its business hours and the
    welcome said first, in each language (None keeps the city's setting and the standard
    welcome). One row. The recording notice that follows the welcome is not editable: it
    is a promise of the privacy policy."""

    __tablename__ = "ivr_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    hours: Mapped[str | None] = mapped_column(String(400))
    welcome_en: Mapped[str | None] = mapped_column(String(300))
    welcome_es: Mapped[str | None] = mapped_column(String(300))
    changed_at: Mapped[datetime | None]
