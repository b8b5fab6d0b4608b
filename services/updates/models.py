"""Who is told when a request moves: one row per request, channel and address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class UpdateSubscription(Base):
    """A caller's consent to be told of status changes on one request, on one channel
    (``sms`` to a mobile number, ``email`` to an address), with who took the consent,
    when and on which call. Withdrawn by one click in an email; a number that texted
    STOP gets no text until it texts START. ``due_at`` is when the next message may go:
    never sooner than an hour after the last, so later changes fold into it."""

    __tablename__ = "update_subscriptions"
    __table_args__ = (UniqueConstraint("request_id", "channel", "to_index"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(8))  # sms, email
    to_sealed: Mapped[bytes]
    to_index: Mapped[bytes] = mapped_column(index=True)
    language: Mapped[str] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(16))  # filed, added
    consent_at: Mapped[datetime]
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    consent_call_sid: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_how: Mapped[str | None] = mapped_column(String(16))  # unsubscribe
    # The request's history up to this step has been told (or was known at consent).
    told_through: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    last_sent_at: Mapped[datetime | None]
    messages: Mapped[int] = mapped_column(Integer, default=0)
