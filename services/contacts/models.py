"""Contacts, the requests filed on them, and their topics (for reports)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import BIG_ID, Base


class Contact(Base):
    """One interaction with a member of the public: a call an agent answered (or a
    callback), an SMS conversation (per number and local day), an Open311 submission, or
    one staff logged by hand. Notes and the number of an SMS conversation are sealed.

    An anonymous request filed on a contact is only counted (``anonymous_requests``),
    never linked, so the call's number can never lead to it.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_started_at", "started_at"),
        Index("ix_contacts_agent_started_at", "agent", "started_at"),
        Index("ix_contacts_phone_index", "phone_index"),
        # One SMS conversation per number and local day (other channels leave both null).
        UniqueConstraint("phone_index", "day"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    agent: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(32))
    transferred_to: Mapped[str | None] = mapped_column(String(120))
    anonymous_requests: Mapped[int] = mapped_column(Integer, default=0)
    wrapped_up_at: Mapped[datetime | None]
    notes_sealed: Mapped[bytes | None]
    phone_sealed: Mapped[bytes | None]
    phone_index: Mapped[bytes | None]
    day: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    requests: Mapped[list[ContactRequest]] = relationship(
        cascade="all, delete-orphan", order_by="ContactRequest.id"
    )
    topics: Mapped[list[ContactTopic]] = relationship(
        cascade="all, delete-orphan", order_by="ContactTopic.id"
    )


class ContactRequest(Base):
    """A (not anonymous) service request filed on a contact."""

    __tablename__ = "contact_requests"
    __table_args__ = (
        UniqueConstraint("contact_id", "request_id"),
        Index("ix_contact_requests_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))


class ContactTopic(Base):
    """A topic (knowledge-base code) of a wrapped-up contact, with the contact's start
    and kind copied in so that monthly topic reports read one index."""

    __tablename__ = "contact_topics"
    __table_args__ = (
        UniqueConstraint("contact_id", "code"),
        # Kind first: a month's inquiries are one contiguous range of the index.
        Index("ix_contact_topics_kind_started_code", "kind", "started_at", "code"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    # inquiry, request (for service) or other, from the contact's resolution.
    kind: Mapped[str] = mapped_column(String(16))
