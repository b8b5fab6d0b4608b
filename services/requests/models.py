"""Service requests, the catalogue they are filed against, and their contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import BIG_ID, Base


class ServiceType(Base):
    """One entry of the service catalogue (Open311's "service")."""

    __tablename__ = "service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(120))
    group: Mapped[str] = mapped_column(String(80))
    keywords: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When staff last added or changed it (None: as first seeded): Open311's changeset.
    changed_at: Mapped[datetime | None]


class ServiceRequest(Base):
    """A request for service. ``public_id`` is random, so it says nothing about when the
    request was filed; an anonymous request has no contact, no call, no filing agent and
    an hour-coarse creation time (see docs/requests.md)."""

    __tablename__ = "service_requests"
    __table_args__ = (
        Index("ix_service_requests_service_created", "service_code", "created_at"),
        Index("ix_service_requests_created_at", "created_at"),
        Index("ix_service_requests_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    description: Mapped[str] = mapped_column(Text, default="")
    # Where the problem is (not the caller's home): public in Open311.
    address: Mapped[str | None] = mapped_column(String(255))
    address_key: Mapped[str | None] = mapped_column(String(255), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    # The latest note staff chose to publish (shown filtered on the public feed).
    status_notes: Mapped[str | None] = mapped_column(Text)
    # The description as staff reviewed it for the public feed (PUBLIC_TEXT=reviewed);
    # None until someone has.
    public_description: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    possible_duplicates: Mapped[list[str]] = mapped_column(default=list)
    open311_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    # What a civic app sent with the request (Open311): a link to a photo or the like,
    # and the location's id in the city's address repository.
    media_url: Mapped[str | None] = mapped_column(String(2048))
    address_id: Mapped[str | None] = mapped_column(String(64))

    contact: Mapped[RequestContact | None] = relationship(
        back_populates="request", cascade="all, delete-orphan", uselist=False
    )
    history: Mapped[list[RequestStatusChange]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestStatusChange.id"
    )
    calls: Mapped[list[RequestCall]] = relationship(
        back_populates="request", cascade="all, delete-orphan"
    )


class RequestStatusChange(Base):
    """A step in a request's life: the status it moved to and the note that went with it."""

    __tablename__ = "request_status_changes"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # Private unless staff chose to publish it.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    request: Mapped[ServiceRequest] = relationship(back_populates="history")


class RequestCall(Base):
    """A call a request came from (never for an anonymous request)."""

    __tablename__ = "request_calls"
    __table_args__ = (UniqueConstraint("request_id", "call_sid"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    call_sid: Mapped[str] = mapped_column(String(64), index=True)

    request: Mapped[ServiceRequest] = relationship(back_populates="calls")


class RequestContact(Base):
    """Who asked, if they chose to say: every field sealed, searchable by blind index."""

    __tablename__ = "request_contacts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), unique=True
    )
    name_sealed: Mapped[bytes | None]
    phone_sealed: Mapped[bytes | None]
    phone_index: Mapped[bytes | None] = mapped_column(index=True)
    email_sealed: Mapped[bytes | None]
    email_index: Mapped[bytes | None] = mapped_column(index=True)
    address_sealed: Mapped[bytes | None]
    address_index: Mapped[bytes | None] = mapped_column(index=True)

    request: Mapped[ServiceRequest] = relationship(back_populates="contact")
    name_tokens: Mapped[list[ContactNameToken]] = relationship(
        cascade="all, delete-orphan", back_populates="contact"
    )


class ContactNameToken(Base):
    """One blind-indexed word of a contact's name ("José Álvarez": "jose", "alvarez")."""

    __tablename__ = "contact_name_tokens"
    __table_args__ = (
        UniqueConstraint("contact_id", "token_index"),
        Index("ix_contact_name_tokens_token_index", "token_index", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("request_contacts.id", ondelete="CASCADE"))
    token_index: Mapped[bytes]

    contact: Mapped[RequestContact] = relationship(back_populates="name_tokens")
