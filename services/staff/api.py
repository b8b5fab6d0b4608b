"""Sign-in sessions for the console, and staff account management for administrators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from services.platform import audit
from services.platform.auth import (
    SESSION_COOKIE,
    Permission,
    Refusal,
    Staff,
    audit_refusal,
    authenticate,
    require,
)
from services.platform.context import AppContext, ContextDep
from services.platform.errors import InvalidField, NotFound, Problem
from services.platform.network import client_network
from services.platform.params import RowId
from services.platform.ratelimit import rate_limit
from services.platform.roles import Role
from services.staff import service as accounts
from services.staff import sign_in
from services.staff.models import StaffUser

router = APIRouter(tags=["staff"])

SIGN_IN_LIMIT = rate_limit("sign-in", limit=30, per_seconds=60)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, pattern=r"^[0-9 ]{6,9}$")


class SessionOut(BaseModel):
    username: str
    role: Role
    csrf_token: str = Field(description="Send it as X-CSRF-Token on every unsafe request")
    expires_at: datetime
    idle_timeout_seconds: int
    second_factor: Literal["done", "not_used", "enrolment_required"]


class TotpEnrolment(BaseModel):
    provisioning_uri: str = Field(description="For an authenticator app; holds the secret")


class TotpCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9 ]{6,9}$")


def _session_out(
    context: AppContext,
    *,
    username: str,
    role: Role,
    token: str,
    expires_at: datetime,
    pending: bool,
    totp_enabled: bool,
) -> SessionOut:
    policy = context.part(sign_in.SessionPolicy)
    return SessionOut(
        username=username,
        role=role,
        csrf_token=sign_in.csrf_token(context.keyring, token),
        expires_at=expires_at.astimezone(context.city_tz),
        idle_timeout_seconds=int(policy.idle.total_seconds()),
        second_factor="enrolment_required" if pending else ("done" if totp_enabled else "not_used"),
    )


@router.post(
    "/api/session",
    status_code=201,
    response_model=SessionOut,
    dependencies=[Depends(SIGN_IN_LIMIT)],
)
def start_session(
    body: SignIn, request: Request, response: Response, context: ContextDep
) -> SessionOut:
    """Sign in to the console: sets the session cookie and returns the CSRF token."""
    now = context.clock.now()
    policy = context.part(sign_in.SessionPolicy)
    network = client_network(request.client.host if request.client else None)
    actor = audit.Actor(None, None, None, request.state.request_id)
    refused: sign_in.SignInRefused | None = None
    with context.db.begin() as session:
        try:
            signed = sign_in.sign_in(
                session,
                context.keyring,
                username=body.username,
                password=body.password,
                totp_code=body.totp_code,
                client_network=network,
                now=now,
                policy=policy,
            )
        except sign_in.SignInRefused as exc:
            refused = exc
    if refused is not None:
        with context.db.begin() as session:
            locked = False
            if refused.reason == "credentials":
                locked = sign_in.record_failure(
                    session,
                    context.keyring,
                    username=body.username,
                    client_network=network,
                    now=now,
                    policy=policy,
                )
            audit.record(
                session,
                actor=actor,
                action="auth.sign_in",
                at=now,
                outcome="failed",
                object_type="staff_user",
                detail={
                    "reason": refused.reason,
                    "account_hash": context.keyring.keyed_hash(
                        "audit-account", body.username.lower()
                    ),
                    "locked_now": locked,
                },
            )
        if refused.retry_after is not None:
            raise Problem(
                429,
                "Too many failed sign-ins",
                refused.message,
                headers={"Retry-After": str(refused.retry_after)},
            )
        if refused.reason == "second_factor":
            raise Problem(
                401,
                "Second factor required",
                refused.message,
                errors=[{"field": "totp_code", "message": "is required for this account"}],
            )
        raise Problem(401, "Sign-in failed", refused.message)
    with context.db.begin() as session:
        audit.record(
            session,
            actor=audit.Actor(signed.user_id, signed.username, signed.role.value, actor.request_id),
            action="auth.sign_in",
            at=now,
            object_type="staff_session",
            object_id=str(signed.session_id),
            detail={"second_factor_pending": signed.second_factor_pending},
        )
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=int(policy.lifetime.total_seconds()),
        path="/",
        httponly=True,
        secure=context.city.https,
        samesite="strict",
    )
    return _session_out(
        context,
        username=signed.username,
        role=signed.role,
        token=signed.token,
        expires_at=signed.expires_at,
        pending=signed.second_factor_pending,
        totp_enabled=body.totp_code is not None,
    )


def _console_session(request: Request, context: AppContext) -> Staff:
    """The console session behind the request (a second factor may still be pending)."""
    try:
        staff = authenticate(request, context, allow_pending=True)
    except Refusal as refusal:
        audit_refusal(
            context,
            audit.Actor(None, None, None, request.state.request_id),
            request,
            refusal.reason,
            "session",
        )
        raise Problem(refusal.status, "Forbidden", refusal.detail) from None
    if staff is None or staff.via != "session" or staff.session_id is None:
        raise Problem(401, "Not signed in", "There is no console session on this request.")
    return staff


@router.get("/api/session", response_model=SessionOut)
def current_session(request: Request, context: ContextDep) -> SessionOut:
    """Who is signed in, when the session ends, and its CSRF token."""
    staff = _console_session(request, context)
    with context.db.begin() as session:
        found = sign_in.identify_by_session(
            session,
            request.cookies[SESSION_COOKIE],
            now=context.clock.now(),
            policy=context.part(sign_in.SessionPolicy),
        )
    if found is None:
        raise Problem(401, "Not signed in", "The session has ended.")
    return _session_out(
        context,
        username=staff.username,
        role=staff.role,
        token=request.cookies[SESSION_COOKIE],
        expires_at=found.expires_at,
        pending=found.second_factor_pending,
        totp_enabled=found.totp_enabled,
    )


@router.delete("/api/session", status_code=204)
def sign_out(request: Request, context: ContextDep) -> Response:
    """End the console session and clear its cookie."""
    staff = _console_session(request, context)
    now = context.clock.now()
    with context.db.begin() as session:
        sign_in.sign_out(session, session_id=staff.session_id or 0, now=now)
        audit.record(
            session,
            actor=staff.actor,
            action="auth.sign_out",
            at=now,
            object_type="staff_session",
            object_id=str(staff.session_id),
        )
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=context.city.https, samesite="strict")
    return response


@router.post("/api/session/totp", response_model=TotpEnrolment)
def begin_totp(request: Request, context: ContextDep) -> TotpEnrolment:
    """Start setting up a second factor; confirm it with a code from the app."""
    staff = _console_session(request, context)
    with context.db.begin() as session:
        uri = sign_in.begin_totp_enrolment(session, context.keyring, user_id=staff.user_id)
        audit.record(
            session,
            actor=staff.actor,
            action="auth.totp_enrolment",
            at=context.clock.now(),
            object_type="staff_user",
            object_id=str(staff.user_id),
            outcome="started",
        )
    return TotpEnrolment(provisioning_uri=uri)


@router.post("/api/session/totp/confirm", status_code=204)
def confirm_totp(body: TotpCode, request: Request, context: ContextDep) -> Response:
    """Turn the second factor on with a current code."""
    staff = _console_session(request, context)
    now = context.clock.now()
    with context.db.begin() as session:
        confirmed = sign_in.confirm_totp_enrolment(
            session,
            context.keyring,
            user_id=staff.user_id,
            code=body.code,
            session_id=staff.session_id or 0,
            now=now,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="auth.totp_enrolment",
            at=now,
            object_type="staff_user",
            object_id=str(staff.user_id),
            outcome="confirmed" if confirmed else "failed",
        )
    if not confirmed:
        raise InvalidField("code", "does not match; check the app and the clock")
    return Response(status_code=204)


# -- administrators: accounts and tokens ------------------------------------------------


class StaffOut(BaseModel):
    id: int
    username: str
    role: Role
    disabled: bool
    second_factor: bool
    locked_until: datetime | None
    created_at: datetime
    extension: str | None = None


class StaffList(BaseModel):
    items: list[StaffOut]


class NewStaff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=63)
    role: Role
    password: str | None = Field(
        default=None, min_length=accounts.MIN_PASSWORD_LENGTH, max_length=1024
    )


class StaffChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None
    extension: str | None = Field(
        default=None,
        pattern=r"^[0-9]{0,8}$",
        description="Directory digits whose calls pop on this person's screen; empty clears",
    )


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=accounts.MIN_PASSWORD_LENGTH, max_length=1024)


class TokenOut(BaseModel):
    id: int
    username: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenList(BaseModel):
    items: list[TokenOut]


StaffAdmin = Annotated[Staff, Depends(require(Permission.STAFF_MANAGE))]


def _staff_out(user: StaffUser, context: AppContext) -> StaffOut:
    def local(instant: datetime | None) -> datetime | None:
        return None if instant is None else instant.astimezone(context.city_tz)

    return StaffOut(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        disabled=user.disabled_at is not None,
        second_factor=user.totp_enabled_at is not None,
        locked_until=local(user.locked_until),
        created_at=user.created_at.astimezone(context.city_tz),
        extension=user.extension,
    )


@router.get("/api/staff", response_model=StaffList)
def list_staff(staff: StaffAdmin, context: ContextDep) -> StaffList:
    """Every staff account."""
    with context.db.begin() as session:
        users = accounts.list_users(session)
        audit.record(
            session,
            actor=staff.actor,
            action="staff.list",
            at=context.clock.now(),
            object_type="staff_user",
            detail={"results": len(users)},
        )
        return StaffList(items=[_staff_out(user, context) for user in users])


@router.post("/api/staff", status_code=201, response_model=StaffOut)
def create_staff(body: NewStaff, staff: StaffAdmin, context: ContextDep) -> StaffOut:
    """Add an account (with no password it signs in with API tokens only)."""
    now = context.clock.now()
    with context.db.begin() as session:
        try:
            user = accounts.create_user(
                session, username=body.username, role=body.role, password=body.password, now=now
            )
        except accounts.StaffError as exc:
            raise InvalidField("username", str(exc)) from exc
        audit.record(
            session,
            actor=staff.actor,
            action="staff.create",
            at=now,
            object_type="staff_user",
            object_id=str(user.id),
            detail={"role": user.role},
        )
        return _staff_out(user, context)


def _would_leave_no_admin(session: Session, user: StaffUser) -> bool:
    others = [
        other
        for other in accounts.list_users(session)
        if other.id != user.id and other.role == Role.ADMIN.value and other.disabled_at is None
    ]
    return user.role == Role.ADMIN.value and not others


@router.patch("/api/staff/{user_id}", response_model=StaffOut)
def change_staff(
    user_id: RowId, body: StaffChange, staff: StaffAdmin, context: ContextDep
) -> StaffOut:
    """Change an account's role or disable it (either ends all its sessions), or set the
    extension whose calls pop on its screen."""
    now = context.clock.now()
    with context.db.begin() as session:
        user = accounts.get_user(session, user_id)
        if user is None:
            raise NotFound("staff account")
        losing_admin = (body.role not in (None, Role.ADMIN)) or body.disabled is True
        if losing_admin and _would_leave_no_admin(session, user):
            raise Problem(409, "Conflict", "This is the last active administrator.")
        changes: dict[str, object] = {}
        if body.role is not None and body.role.value != user.role:
            changes["role"] = {"from": user.role, "to": body.role.value}
            accounts.change_role(session, user=user, role=body.role, now=now)
        if body.disabled is not None and body.disabled != (user.disabled_at is not None):
            changes["disabled"] = body.disabled
            accounts.set_disabled(session, user=user, disabled=body.disabled, now=now)
        if body.extension is not None and (body.extension or None) != user.extension:
            changes["extension"] = body.extension or None
            user.extension, user.updated_at = body.extension or None, now
        audit.record(
            session,
            actor=staff.actor,
            action="staff.change",
            at=now,
            object_type="staff_user",
            object_id=str(user.id),
            detail=changes,
        )
        return _staff_out(user, context)


@router.put("/api/staff/{user_id}/password", status_code=204)
def reset_password(
    user_id: RowId, body: NewPassword, staff: StaffAdmin, context: ContextDep
) -> Response:
    """Set a new password; the account's sessions end."""
    now = context.clock.now()
    with context.db.begin() as session:
        user = accounts.get_user(session, user_id)
        if user is None:
            raise NotFound("staff account")
        accounts.set_password(session, user=user, password=body.password, now=now)
        audit.record(
            session,
            actor=staff.actor,
            action="staff.password_reset",
            at=now,
            object_type="staff_user",
            object_id=str(user.id),
        )
    return Response(status_code=204)


@router.get("/api/staff/{user_id}/tokens", response_model=TokenList)
def list_staff_tokens(user_id: RowId, staff: StaffAdmin, context: ContextDep) -> TokenList:
    """An account's API tokens (never their secrets)."""
    with context.db.begin() as session:
        user = accounts.get_user(session, user_id)
        if user is None:
            raise NotFound("staff account")
        rows = accounts.list_tokens(session, username=user.username)
        return TokenList(
            items=[
                TokenOut(
                    id=token.id,
                    username=name,
                    label=token.label,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                    revoked_at=token.revoked_at,
                    last_used_at=token.last_used_at,
                )
                for token, name in rows
            ]
        )


@router.delete("/api/tokens/{token_id}", status_code=204)
def revoke_token(token_id: RowId, staff: StaffAdmin, context: ContextDep) -> Response:
    """Revoke an API token at once."""
    now = context.clock.now()
    with context.db.begin() as session:
        try:
            token = accounts.revoke_token(session, token_id=token_id, now=now)
        except accounts.StaffError as exc:
            raise NotFound("token") from exc
        audit.record(
            session,
            actor=staff.actor,
            action="token.revoke",
            at=now,
            object_type="api_token",
            object_id=str(token.id),
            detail={"user_id": token.user_id},
        )
    return Response(status_code=204)
