"""Console sign-in: sessions, second factor, throttling and lockout.

A session token is 256 random bits in an HttpOnly cookie; the database keeps its SHA-256
only. A session ends when it has been idle too long, when it reaches its absolute
lifetime, when its owner signs out, or when the account is disabled, changes role or
changes password. Failed sign-ins are counted per account (keyed hash of the name) and
per client network; too many lock the account, or throttle the network, for a while.
The CSRF token of a session is a keyed hash of its token: nothing more to store.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.platform.auth import Authentication, Identity
from services.platform.roles import Role
from services.staff import service as accounts
from services.staff.models import SignInFailure, SignInLock, StaffSession, StaffUser
from storage.crypto import FieldContext, Keyring
from storage.upsert import insert_ignoring_conflicts

SESSION_TOKEN_BYTES = 32
LAST_SEEN_GRANULARITY = timedelta(seconds=30)
TOTP_ISSUER = "Switchboard 311"


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta
    totp_required_roles: frozenset[Role]
    max_account_failures: int
    max_network_failures: int
    failure_window: timedelta
    lockout: timedelta


# Roles that must use a second factor when the city requires one.
SECOND_FACTOR_ROLES = frozenset({Role.SUPERVISOR, Role.PRIVACY_OFFICER, Role.ADMIN})


class SignInRefused(Exception):
    """Why a sign-in failed, in words fit for the person signing in."""

    def __init__(self, reason: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; never stored
    session_id: int
    user_id: int
    username: str
    role: Role
    expires_at: datetime
    second_factor_pending: bool
    replaced_temporary_password: bool = False


@dataclass(frozen=True)
class SessionIdentity:
    session_id: int
    user_id: int
    username: str
    role: Role
    expires_at: datetime
    last_seen_at: datetime
    second_factor_pending: bool
    totp_enabled: bool


def csrf_token(keyring: Keyring, session_token: str) -> str:
    """The CSRF token that goes with a session (same for its whole life)."""
    return keyring.keyed_hash("csrf", accounts.secret_hash(session_token))


def csrf_matches(keyring: Keyring, session_token: str, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(
        csrf_token(keyring, session_token), supplied or ""
    )


def _minutes(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 59) // 60)


def _failures_since(
    session: Session, column: InstrumentedAttribute[str], value: str, since: datetime
) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SignInFailure)
            .where(column == value, SignInFailure.occurred_at >= since)
        )
        or 0
    )


def account_hash(keyring: Keyring, username: str) -> str:
    """The keyed hash a name's failures and lock are kept under (real or not)."""
    return keyring.keyed_hash("sign-in", username.strip().lower())


def clear_lock(session: Session, keyring: Keyring, username: str) -> None:
    """Lift a name's lockout and forget its failures (a new password, a re-enabled account)."""
    name_hash = account_hash(keyring, username)
    session.execute(delete(SignInLock).where(SignInLock.account_hash == name_hash))
    session.execute(delete(SignInFailure).where(SignInFailure.account_hash == name_hash))


def record_failure(
    session: Session,
    keyring: Keyring,
    *,
    username: str,
    client_network: str,
    now: datetime,
    policy: SessionPolicy,
) -> bool:
    """Count a failed sign-in; lock the name when it has failed too often. True if locked.

    The lock is kept by the name's keyed hash, so a name no account has locks exactly as
    a real one does (same answer, same Retry-After): a lockout reveals no usernames."""
    name_hash = account_hash(keyring, username)
    session.execute(
        delete(SignInFailure).where(SignInFailure.occurred_at < now - policy.failure_window)
    )
    session.add(
        SignInFailure(occurred_at=now, account_hash=name_hash, client_network=client_network)
    )
    session.flush()
    failures = _failures_since(
        session, SignInFailure.account_hash, name_hash, now - policy.failure_window
    )
    if failures < policy.max_account_failures:
        return False
    until = now + policy.lockout
    session.execute(delete(SignInLock).where(SignInLock.locked_until <= now))
    fresh = insert_ignoring_conflicts(
        session,
        SignInLock,
        {"account_hash": name_hash, "locked_until": until},
        conflict_columns=["account_hash"],
    )
    if not fresh:  # locked already (by this name's earlier failures, or another process)
        session.execute(
            update(SignInLock)
            .where(SignInLock.account_hash == name_hash)
            .values(locked_until=until)
        )
    # Shown to administrators on the account (if there is one); the lock above decides.
    session.execute(
        update(StaffUser)
        .where(StaffUser.username == username.strip().lower())
        .values(locked_until=until)
    )
    return True


def _totp_place(user: StaffUser, *, pending: bool = False) -> FieldContext:
    return FieldContext("staff_users", "totp_pending" if pending else "totp", str(user.id))


def _check_totp(
    keyring: Keyring, user: StaffUser, code: str, now: datetime, *, pending: bool = False
) -> bool:
    """Whether ``code`` is current for the confirmed secret (or, ``pending``, the one
    being set up); a code is good once."""
    sealed = user.totp_pending_sealed if pending else user.totp_secret_sealed
    if sealed is None:
        return False
    secret = keyring.open(sealed, _totp_place(user, pending=pending))
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    for offset in (0, -1, 1):  # one step of clock drift either way
        step = totp.timecode(now) + offset
        if hmac.compare_digest(totp.generate_otp(step), code):
            # A replayed code (the memory is the confirmed secret's; a pending secret's
            # code is used once anyway, by its confirmation).
            if not pending and user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


def sign_in(
    session: Session,
    keyring: Keyring,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    client_network: str,
    now: datetime,
    policy: SessionPolicy,
    new_password: str | None = None,
) -> SignedIn:
    """Check the credentials and open a session. Raises SignInRefused with a reason:
    ``throttled``, ``locked``, ``credentials``, ``second_factor``, and for a temporary
    password (set by an administrator) ``expired`` or ``new_password`` (one must be
    chosen now; ``new_password`` then replaces it before the session opens)."""
    recent = _failures_since(
        session, SignInFailure.client_network, client_network, now - policy.failure_window
    )
    if recent >= policy.max_network_failures:
        raise SignInRefused(
            "throttled",
            "Too many failed sign-ins from your network. "
            f"Try again in {_minutes(policy.failure_window)} minutes.",
            retry_after=int(policy.failure_window.total_seconds()),
        )
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    lock = session.get(SignInLock, account_hash(keyring, username))
    if lock is not None and lock.locked_until > now:
        wait = lock.locked_until - now
        raise SignInRefused(
            "locked",
            "This account is locked after too many failed sign-ins. "
            f"Try again in {_minutes(wait)} minutes.",
            retry_after=int(wait.total_seconds()) + 1,
        )
    password_ok = accounts.verify_password(user, password)
    if user is None or not password_ok or not accounts.in_force(user):
        raise SignInRefused("credentials", "Wrong username or password.")
    totp_enabled = user.totp_enabled_at is not None
    if totp_enabled:
        if not totp_code:
            raise SignInRefused("second_factor", "Enter the code from your authenticator app.")
        if not _check_totp(keyring, user, totp_code, now):
            raise SignInRefused("credentials", "Wrong username, password or code.")
    temporary = user.password_temporary_until is not None
    if temporary:
        _replace_temporary(user, password, new_password, now)
    elif accounts.password_needs_rehash(user):
        accounts.rehash_password(user, password)
    user.locked_until = None
    user.last_sign_in_at = now
    clear_lock(session, keyring, user.username)
    pending = not totp_enabled and Role(user.role) in policy.totp_required_roles
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    row = StaffSession(
        user_id=user.id,
        token_hash=accounts.secret_hash(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.lifetime,
        second_factor_pending=pending,
    )
    session.add(row)
    session.flush()
    return SignedIn(
        token, row.id, user.id, user.username, Role(user.role), row.expires_at, pending, temporary
    )


def _replace_temporary(
    user: StaffUser, password: str, new_password: str | None, now: datetime
) -> None:
    """A temporary password opens no session by itself: it must be replaced, in time."""
    if now >= (user.password_temporary_until or now):
        raise SignInRefused(
            "expired",
            "This temporary password has expired. Ask an administrator for a new one.",
        )
    if not new_password:
        raise SignInRefused(
            "new_password",
            "An administrator set this password for you: choose your own to go on.",
        )
    if new_password == password:
        raise SignInRefused("new_password", "Choose a password other than the temporary one.")
    try:
        user.password_hash = accounts.hash_password(new_password)
    except accounts.StaffError as exc:
        raise SignInRefused("new_password", f"The new password is too short: {exc}.") from None
    user.password_temporary_until = None
    user.updated_at = now


def identify_by_session(
    session: Session, token: str, *, now: datetime, policy: SessionPolicy
) -> SessionIdentity | None:
    """The staff member behind a session cookie, or None once it has ended for any reason."""
    if not token or len(token) > 128:
        return None
    found = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == accounts.secret_hash(token))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or not accounts.in_force(user):
        return None
    reason = None
    if now >= row.expires_at:
        reason = "lifetime"
    elif now - row.last_seen_at >= policy.idle:
        reason = "idle"
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        return None
    if now - row.last_seen_at >= LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
    return SessionIdentity(
        row.id,
        user.id,
        user.username,
        Role(user.role),
        row.expires_at,
        row.last_seen_at,
        row.second_factor_pending,
        user.totp_enabled_at is not None,
    )


def sign_out(session: Session, *, session_id: int, now: datetime) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now, end_reason="signed out")
    )


class CurrentCodeNeeded(Exception):
    """Replacing a confirmed second factor needs a current code from it."""


def begin_totp_enrolment(
    session: Session,
    keyring: Keyring,
    *,
    user_id: int,
    current_code: str | None,
    now: datetime,
) -> str:
    """A new TOTP secret for the account, pending until confirmed; returns the
    provisioning URI an authenticator app reads, which holds the secret.

    A confirmed factor stays in force until the new one is confirmed, and replacing it
    needs a current code from it (CurrentCodeNeeded otherwise): a stolen session alone
    cannot swap the factor for one of its own. StaffError when there is no account."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise accounts.StaffError("no such account")
    if user.totp_enabled_at is not None and not (
        current_code and _check_totp(keyring, user, current_code, now)
    ):
        raise CurrentCodeNeeded
    secret = pyotp.random_base32()
    user.totp_pending_sealed = keyring.seal(secret, _totp_place(user, pending=True))
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def confirm_totp_enrolment(
    session: Session, keyring: Keyring, *, user_id: int, code: str, session_id: int, now: datetime
) -> bool:
    """Put the pending secret in force when ``code`` matches it (the old one, if any, is
    then gone); the current session is then complete."""
    user = session.get(StaffUser, user_id)
    if user is None or user.totp_pending_sealed is None:
        return False
    if not _check_totp(keyring, user, code, now, pending=True):
        return False
    secret = keyring.open(user.totp_pending_sealed, _totp_place(user, pending=True))
    user.totp_secret_sealed = keyring.seal(secret, _totp_place(user))
    user.totp_pending_sealed = None
    user.totp_enabled_at = now
    user.updated_at = now
    session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id)
        .values(second_factor_pending=False)
    )
    return True


def authentication(keyring: Keyring, policy: SessionPolicy) -> Authentication:
    """How the platform turns a bearer token or a session cookie into a staff member."""

    def by_token(session: Session, token: str, now: datetime) -> Identity | None:
        found = accounts.identify_by_token(session, token, now=now)
        return None if found is None else Identity(found.user_id, found.username, found.role)

    def by_session(session: Session, token: str, now: datetime) -> Identity | None:
        found = identify_by_session(session, token, now=now, policy=policy)
        if found is None:
            return None
        return Identity(
            found.user_id,
            found.username,
            found.role,
            session_id=found.session_id,
            second_factor_pending=found.second_factor_pending,
        )

    def matches(token: str, supplied: str | None) -> bool:
        return csrf_matches(keyring, token, supplied)

    return Authentication(by_token=by_token, by_session=by_session, csrf_matches=matches)
