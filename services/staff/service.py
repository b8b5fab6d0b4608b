"""Staff accounts: create, authenticate by password or bearer token, issue and revoke tokens."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.platform.phones import InvalidPhoneNumber, normalise
from services.platform.roles import Role
from services.staff.models import ApiToken, StaffSession, StaffUser
from storage.db import one_at_a_time

TOKEN_PREFIX = "sb_"  # noqa: S105 - a marker, not a secret
TOKEN_BYTES = 32  # 256 bits
MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
LAST_USED_GRANULARITY = timedelta(minutes=5)

# Argon2id with the library's RFC 9106 low-memory profile defaults.
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist keeps timing the same."""
    return _hasher.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A problem with an account operation; the message names no secret."""


@dataclass(frozen=True)
class StaffIdentity:
    user_id: int
    username: str
    role: Role


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    username: str,
    role: Role,
    password: str | None,
    now: datetime,
    requested_by: int | None = None,
    awaiting_approval: bool = False,
) -> StaffUser:
    """Add a staff account; ``awaiting_approval``: not in force (no sign-in, no token
    works) until a second person approves it. Raises StaffError for a bad name, weak
    password or duplicate."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise StaffError("a username is 2-63 lower-case letters, digits, '.', '_' or '-'")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise StaffError("that username is taken")
    user = StaffUser(
        username=username,
        role=role.value,
        password_hash=hash_password(password) if password is not None else None,
        created_at=now,
        updated_at=now,
        approved_at=None if awaiting_approval else now,
        requested_by_id=requested_by if awaiting_approval else None,
        requested_at=now if awaiting_approval else None,
    )
    session.add(user)
    session.flush()
    return user


def verify_password(user: StaffUser | None, password: str) -> bool:
    """True when ``password`` is the user's; constant work whether or not the user exists."""
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    ok: bool
    try:
        ok = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        ok = False
    return ok and user is not None and user.password_hash is not None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, *, username: str, days: int, now: datetime, label: str = "cli"
) -> tuple[str, ApiToken]:
    """Create a bearer token for ``username``; the plain token is returned once, never stored."""
    if not 1 <= days <= 366:
        raise StaffError("a token lives between 1 and 366 days")
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    if user is None or user.disabled_at is not None:
        raise StaffError("no active staff account by that name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        label=label[:64],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return token, row


def identify_by_token(session: Session, token: str, *, now: datetime) -> StaffIdentity | None:
    """The active staff member a bearer token belongs to, or None.

    Expired, revoked and disabled-account tokens all give None.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = session.execute(
        select(ApiToken, StaffUser)
        .join(StaffUser, StaffUser.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    api_token, user = row
    if api_token.revoked_at is not None or api_token.expires_at <= now or not in_force(user):
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_GRANULARITY:
        session.execute(
            update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
        )
    return StaffIdentity(user_id=user.id, username=user.username, role=Role(user.role))


def in_force(user: StaffUser) -> bool:
    """An account may be used: enabled, and approved (by a second person, where needed)."""
    return user.disabled_at is None and user.approved_at is not None


def secret_hash(secret: str) -> str:
    """SHA-256 of a random secret (token, session); what the database keeps instead."""
    return _token_hash(secret)


def get_user(session: Session, user_id: int, *, lock: bool = False) -> StaffUser | None:
    """The account; with ``lock``, locked until the transaction ends (PostgreSQL)."""
    return session.get(StaffUser, user_id, with_for_update=lock)


def usernames(session: Session, ids: set[int]) -> dict[int, str]:
    """Usernames by id, read in the caller's session (a second connection opened inside
    a write transaction would wait on SQLite's one write lock until it timed out)."""
    if not ids:
        return {}
    rows = session.execute(
        select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(sorted(ids)))
    )
    return {user_id: name for user_id, name in rows}


def list_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def end_sessions(session: Session, *, user_id: int, reason: str, now: datetime) -> int:
    """End every open console session of an account; returns how many."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def change_role(session: Session, *, user: StaffUser, role: Role, now: datetime) -> None:
    """Give the account another role. Its sessions end; its tokens now carry the new role."""
    if user.role == role.value:
        return
    user.role = role.value
    user.updated_at = now
    end_sessions(session, user_id=user.id, reason="role changed", now=now)


def revoke_tokens(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every live API token of an account; returns how many."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_disabled(session: Session, *, user: StaffUser, disabled: bool, now: datetime) -> None:
    """Disable (every session ends, every token is revoked, so enabling the account again
    brings none back) or enable an account."""
    if disabled and user.disabled_at is None:
        user.disabled_at = now
        end_sessions(session, user_id=user.id, reason="account disabled", now=now)
        revoke_tokens(session, user_id=user.id, now=now)
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        user.locked_until = None
    user.updated_at = now


def set_extension(
    session: Session, *, user: StaffUser, extension: str | None, now: datetime
) -> None:
    """The directory digits whose ringing calls pop on this person's screen (None: none)."""
    user.extension = extension
    user.updated_at = now


# Checks of "is this the last administrator" run one at a time, so two administrators
# who disable (or demote) each other at the same moment cannot both see the other still
# in office and leave nobody.
LAST_ADMIN_LOCK = "staff.last-admin"


def is_last_active_admin(session: Session, user: StaffUser) -> bool:
    """True when ``user`` is the only administrator whose account is enabled: taking the
    role away or disabling the account would leave nobody to run accounts. On PostgreSQL
    the check waits for any other such check's transaction to end (SQLite runs one
    writer at a time)."""
    if user.role != Role.ADMIN.value:
        return False
    one_at_a_time(session, LAST_ADMIN_LOCK)
    others = session.scalar(
        select(StaffUser.id)
        .where(
            StaffUser.id != user.id,
            StaffUser.role == Role.ADMIN.value,
            StaffUser.disabled_at.is_(None),
        )
        .limit(1)
    )
    return others is None


def set_password(session: Session, *, user: StaffUser, password: str, now: datetime) -> int:
    """Replace the password (StaffError when too weak); the account's sessions end and
    its API tokens are revoked (whoever knew the old password may have issued them).
    Returns how many tokens were revoked."""
    user.password_hash = hash_password(password)
    user.password_temporary_until = None
    user.locked_until = None
    user.updated_at = now
    end_sessions(session, user_id=user.id, reason="password changed", now=now)
    return revoke_tokens(session, user_id=user.id, now=now)


# A temporary password: four groups of four from letters and digits no one misreads
# (no 0/o, 1/l/i), about 79 bits; it works for this long, and only once.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_PASSWORD_LIFETIME = timedelta(hours=72)


def set_temporary_password(session: Session, *, user: StaffUser, now: datetime) -> tuple[str, int]:
    """Replace the password with a new random temporary one, which its holder must change
    at the next sign-in (within TEMPORARY_PASSWORD_LIFETIME). Sessions end and tokens are
    revoked as with any new password. Returns the password (to be shown once, never
    stored or logged) and how many tokens were revoked."""
    password = "-".join(
        "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4)
    )
    revoked = set_password(session, user=user, password=password, now=now)
    user.password_temporary_until = now + TEMPORARY_PASSWORD_LIFETIME
    return password, revoked


def password_needs_rehash(user: StaffUser) -> bool:
    return user.password_hash is not None and _hasher.check_needs_rehash(user.password_hash)


def rehash_password(user: StaffUser, password: str) -> None:
    user.password_hash = _hasher.hash(password)


def list_tokens(session: Session, *, username: str | None = None) -> list[tuple[ApiToken, str]]:
    """Tokens (never their secret) with their owner's name, newest first."""
    query = (
        select(ApiToken, StaffUser.username)
        .join(StaffUser, StaffUser.id == ApiToken.user_id)
        .order_by(ApiToken.id.desc())
    )
    if username is not None:
        query = query.where(StaffUser.username == username.strip().lower())
    return [(token, name) for token, name in session.execute(query)]


def revoke_token(session: Session, *, token_id: int, now: datetime) -> ApiToken:
    """Revoke a token by id; StaffError when there is none."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise StaffError("no token with that id")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


# -- separation of duties ---------------------------------------------------------------


@dataclass(frozen=True)
class Awaiting:
    """What waits for a second person on an account: the account itself (new, or its
    password reset by someone else) or a change of its role, to ``role``."""

    kind: str  # "account" or "role"
    role: Role


def awaiting(user: StaffUser) -> Awaiting | None:
    if user.disabled_at is None and user.approved_at is None:
        return Awaiting("account", Role(user.role))
    if user.pending_role is not None:
        return Awaiting("role", Role(user.pending_role))
    return None


def request_approval(
    session: Session, *, user: StaffUser, by: int | None, now: datetime, role: Role | None = None
) -> None:
    """Hold the account (``role`` None) or a change to ``role`` until a second person
    approves. A held account's sessions end and it cannot be used meanwhile."""
    if role is None:
        user.approved_at, user.approved_by_id = None, None
        end_sessions(session, user_id=user.id, reason="awaiting approval", now=now)
    else:
        user.pending_role = role.value
    user.requested_by_id, user.requested_at, user.updated_at = by, now, now


def approve(session: Session, *, user: StaffUser, by: int, now: datetime) -> Awaiting | None:
    """Put what waits on the account in force; returns what it was (None: nothing)."""
    waiting = awaiting(user)
    if waiting is None:
        return None
    if waiting.kind == "account":
        user.approved_at, user.approved_by_id = now, by
    else:
        user.pending_role = None
        change_role(session, user=user, role=waiting.role, now=now)
    user.requested_by_id, user.requested_at, user.updated_at = None, None, now
    return waiting


def reject(session: Session, *, user: StaffUser, now: datetime) -> Awaiting | None:
    """Turn down what waits: a change of role is dropped, a held account is disabled."""
    waiting = awaiting(user)
    if waiting is None:
        return None
    if waiting.kind == "account":
        set_disabled(session, user=user, disabled=True, now=now)
    user.pending_role = None
    user.requested_by_id, user.requested_at, user.updated_at = None, None, now
    return waiting


def list_awaiting(session: Session) -> list[StaffUser]:
    """Accounts with something waiting for a second person, oldest request first."""
    return list(
        session.scalars(
            select(StaffUser)
            .where(
                ((StaffUser.approved_at.is_(None)) & (StaffUser.disabled_at.is_(None)))
                | StaffUser.pending_role.is_not(None)
            )
            .order_by(StaffUser.requested_at, StaffUser.id)
        )
    )


# -- where calls ring, and presence ----------------------------------------------------

PRESENCE_STATES = ("available", "busy", "wrap_up", "away")
_CLIENT = re.compile(r"^client:([A-Za-z0-9_.@-]{1,120})$")
_SIP = re.compile(r"^sips?:[^\s@;]+@[^\s;]+$", re.IGNORECASE)


@dataclass(frozen=True)
class PresencePolicy:
    """How long an agent stays in wrap-up after a call when they do not wrap it up."""

    wrap_up_limit: timedelta = timedelta(seconds=120)


def destination_key(raw: str | None, region: str) -> str | None:
    """A destination as stored and matched: ``client:NAME``, a ``sip:`` URI without its
    parameters (scheme and host lower-cased), or an E.164 number; None for anything else.
    The same reading serves what staff type and a dialled leg's ``To``."""
    text = (raw or "").strip()
    if not text:
        return None
    if text.lower().startswith("client:"):
        match = _CLIENT.match("client:" + text[len("client:") :])
        return None if match is None else f"client:{match.group(1)}"
    if text.lower().startswith(("sip:", "sips:")):
        uri = text.split(";", 1)[0]
        if not _SIP.match(uri):
            return None
        scheme, rest = uri.split(":", 1)
        user, host = rest.rsplit("@", 1)
        return f"{scheme.lower()}:{user}@{host.lower()}"
    try:
        return normalise(text, region)
    except InvalidPhoneNumber:
        return None


def set_destination(
    session: Session, *, user: StaffUser, destination: str | None, region: str, now: datetime
) -> None:
    """Where this person's calls ring (None: nowhere). StaffError for a destination that
    is neither a number, a ``sip:`` URI nor ``client:NAME``, or that is someone else's."""
    key = None
    if destination is not None:
        key = destination_key(destination, region)
        if key is None:
            raise StaffError("a destination is an E.164 number, a sip: URI or client:NAME")
        taken = session.scalar(
            select(StaffUser.id).where(StaffUser.destination == key, StaffUser.id != user.id)
        )
        if taken is not None:
            raise StaffError("that destination rings another staff member")
    user.destination = key
    user.updated_at = now


def staff_at(session: Session, destination: str | None, region: str) -> StaffUser | None:
    """The staff member whose calls ring at ``destination`` (a dialled leg's To)."""
    key = destination_key(destination, region)
    if key is None:
        return None
    return session.scalar(select(StaffUser).where(StaffUser.destination == key))


def effective_presence(
    user: StaffUser, *, now: datetime, policy: PresencePolicy
) -> tuple[str, datetime | None]:
    """The state and since-when that count now: wrap-up past its limit is available
    again, idle since the limit passed."""
    since = user.presence_since
    if user.presence == "wrap_up" and since is not None and now - since >= policy.wrap_up_limit:
        return "available", since + policy.wrap_up_limit
    return user.presence, since


def set_presence(session: Session, *, user: StaffUser, state: str, now: datetime) -> None:
    """Change presence (StaffError for an unknown state); the since-time moves only when
    the state changes, so idle time is kept across repeated "available"."""
    if state not in PRESENCE_STATES:
        raise StaffError(f"presence is one of {', '.join(PRESENCE_STATES)}")
    if user.presence != state or user.presence_since is None:
        user.presence = state
        user.presence_since = now
        user.updated_at = now
