"""Staff accounts, their API tokens, console sessions and failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        Index("ix_staff_users_department_presence", "department", "presence", "presence_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # Second factor: the TOTP secret sealed by the keyring, and the last time step used,
    # so a code cannot be replayed within its window.
    totp_secret_sealed: Mapped[bytes | None]
    # A new secret being set up: the confirmed one above stays in force until this one
    # is confirmed with a code.
    totp_pending_sealed: Mapped[bytes | None]
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]
    # Set when an administrator reset the password to a temporary one: it works until
    # then, and only to choose a new password at the next sign-in.
    password_temporary_until: Mapped[datetime | None]
    # When the account last signed in to the console (sessions themselves are purged).
    last_sign_in_at: Mapped[datetime | None]
    # The extension (directory digits) whose ringing calls pop on this agent's screen.
    extension: Mapped[str | None] = mapped_column(String(8))
    # Separation of duties: an account made through the staff API or console with a role
    # that reads personal data (or grants access) is not in force until a second person
    # approves it (approved_at stays empty until then); a change to such a role waits in
    # pending_role. requested_by_id is who asked for what waits.
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(Integer)
    pending_role: Mapped[str | None] = mapped_column(String(32))
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime | None]
    # Where this person's calls ring (E.164, sip: URI or client:NAME, normalised), and the
    # department (menu key) whose calls are offered to them while they are available.
    destination: Mapped[str | None] = mapped_column(String(255), unique=True)
    department: Mapped[str | None] = mapped_column(String(8))
    # available, busy, wrap_up or away, and since when: the longest idle is offered first.
    presence: Mapped[str] = mapped_column(String(16), default="away")
    presence_since: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is kept, so a database read cannot replay it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[StaffUser] = relationship(back_populates="tokens")


class StaffSession(Base):
    """A console sign-in. The cookie carries a random token; only its SHA-256 is kept."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user_open", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # True until the second factor is given (or enrolled, when the role requires one).
    second_factor_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))


class SignInFailure(Base):
    """A failed sign-in, for throttling: a keyed hash of the name and the client's network."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_account", "account_hash", "occurred_at"),
        Index("ix_sign_in_failures_client", "client_network", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    account_hash: Mapped[str] = mapped_column(String(32))
    client_network: Mapped[str] = mapped_column(String(64))


class SignInLock(Base):
    """A name locked after too many failed sign-ins, by the keyed hash of the name: an
    unknown name locks exactly as a real one does, so a lockout tells nobody which
    accounts exist."""

    __tablename__ = "sign_in_locks"

    account_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    locked_until: Mapped[datetime] = mapped_column(index=True)
