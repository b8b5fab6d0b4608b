"""News-alert sign-ups, subscribers and the alerts sent to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class AlertSignup(Base):
    """A sign-up not yet confirmed: only a keyed hash of the address (to refuse a flood
    of sign-ups for one address), a hash of the confirmation token, and an expiry. The
    address itself is stored only once its owner follows the link."""

    __tablename__ = "alert_signups"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    email_index: Mapped[bytes] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AlertSubscriber(Base):
    """A confirmed subscriber: the address sealed and blind-indexed, with the consent
    record (when they signed up and when they confirmed). Unsubscribing deletes the row."""

    __tablename__ = "alert_subscribers"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    email_sealed: Mapped[bytes]
    email_index: Mapped[bytes] = mapped_column(unique=True)
    language: Mapped[str] = mapped_column(String(2))
    signed_up_at: Mapped[datetime]
    confirmed_at: Mapped[datetime]


class Alert(Base):
    """A news alert and how far its sending got. Subscribers are sent to in id order;
    ``attempting`` is written before each message is handed over and ``cursor`` after,
    so a worker that dies mid-send resumes after the last subscriber it reached and
    never sends anyone the alert twice (the one it was handing over is counted as
    uncertain, not sent again). Opens are counted per alert, never per person."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    subject_es: Mapped[str | None] = mapped_column(String(200))
    body_es: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # sending, sent
    tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # Only those confirmed when the alert was sent get it: subscribers up to this id.
    last_subscriber_id: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    attempting: Mapped[int | None] = mapped_column(BigInteger)
    lease_until: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    uncertain: Mapped[int] = mapped_column(Integer, default=0)
    opens: Mapped[int] = mapped_column(Integer, default=0)


class AlertRetry(Base):
    """A subscriber whose server said "try later" (4xx): tried again once the rest is sent."""

    __tablename__ = "alert_retries"
    __table_args__ = (UniqueConstraint("alert_id", "subscriber_id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
