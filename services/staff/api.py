"""Sign-in sessions for the console, and staff account management for administrators:
routes that parse, call the action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response

from services.platform.audit import Actor
from services.platform.auth import (
    SESSION_COOKIE,
    PresenceHolder,
    Refusal,
    Staff,
    StaffAdmin,
    StaffApprover,
    audit_refusal,
    authenticate,
)
from services.platform.context import AppContext, ContextDep
from services.platform.errors import Problem
from services.platform.network import client_network
from services.platform.params import RowId
from services.platform.ratelimit import rate_limit
from services.staff import actions
from services.staff.schemas import (
    Approval,
    AwaitingList,
    NewPassword,
    NewStaff,
    PresenceIn,
    PresenceOut,
    SessionOut,
    SignIn,
    StaffChange,
    StaffList,
    StaffOut,
    TemporaryPassword,
    TokenList,
    TotpCode,
    TotpEnrolment,
    TotpReplacement,
)

router = APIRouter(tags=["staff"])

SIGN_IN_LIMIT = rate_limit("sign-in", limit=30, per_seconds=60)


def _clear_cookie(response: Response, context: AppContext) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=context.city.https, samesite="strict")


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
    started = actions.sign_in(
        context,
        body,
        client_network=client_network(request.client.host if request.client else None),
        request_id=request.state.request_id,
    )
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        max_age=started.cookie_seconds,
        path="/",
        httponly=True,
        secure=context.city.https,
        samesite="strict",
    )
    return started.session


def console_session(request: Request, context: ContextDep) -> Staff:
    """The console session behind the request (a second factor may still be pending)."""
    try:
        staff = authenticate(request, context, allow_pending=True)
    except Refusal as refusal:
        anonymous = Actor(None, None, None, request.state.request_id)
        audit_refusal(context, anonymous, request, refusal.reason, "session")
        raise Problem(refusal.status, "Forbidden", refusal.detail) from None
    if staff is None or staff.via != "session" or staff.session_id is None:
        raise Problem(401, "Not signed in", "There is no console session on this request.")
    return staff


ConsoleSession = Annotated[Staff, Depends(console_session)]


@router.get("/api/session", response_model=SessionOut)
def current_session(request: Request, staff: ConsoleSession, context: ContextDep) -> SessionOut:
    """Who is signed in, when the session ends, and its CSRF token."""
    return actions.read_session(context, request.cookies[SESSION_COOKIE])


@router.delete("/api/session", status_code=204)
def sign_out(staff: ConsoleSession, context: ContextDep) -> Response:
    """End the console session and clear its cookie."""
    actions.sign_out(context, staff.actor, staff.session_id or 0)
    response = Response(status_code=204)
    _clear_cookie(response, context)
    return response


@router.post("/api/session/totp", response_model=TotpEnrolment)
def begin_totp(
    staff: ConsoleSession,
    context: ContextDep,
    body: Annotated[TotpReplacement | None, Body()] = None,
) -> TotpEnrolment:
    """Start setting up a second factor; confirm it with a code from the app. Replacing
    a confirmed factor needs ``current_code`` from it; the old one works until the new
    one is confirmed."""
    return actions.begin_totp(
        context, staff.actor, staff.user_id, current_code=body.current_code if body else None
    )


@router.post("/api/session/totp/confirm", status_code=204)
def confirm_totp(body: TotpCode, staff: ConsoleSession, context: ContextDep) -> Response:
    """Turn the second factor on with a current code."""
    actions.confirm_totp(
        context,
        staff.actor,
        user_id=staff.user_id,
        session_id=staff.session_id or 0,
        code=body.code,
    )
    return Response(status_code=204)


# -- presence --------------------------------------------------------------------------


@router.get("/api/me/presence", response_model=PresenceOut)
def read_presence(staff: PresenceHolder, context: ContextDep) -> PresenceOut:
    """Your presence: available, busy, wrap_up or away, and since when."""
    return actions.read_presence(context, staff.actor)


@router.put("/api/me/presence", response_model=PresenceOut)
def set_presence(body: PresenceIn, staff: PresenceHolder, context: ContextDep) -> PresenceOut:
    """Set your presence; only available agents of a department are offered its calls."""
    return actions.set_presence(context, staff.actor, body.state)


# -- administrators: accounts and tokens ------------------------------------------------


@router.get("/api/staff", response_model=StaffList)
def list_staff(staff: StaffAdmin, context: ContextDep) -> StaffList:
    """Every staff account."""
    return actions.list_staff(context, staff.actor)


@router.post("/api/staff", status_code=201, response_model=StaffOut)
def create_staff(body: NewStaff, staff: StaffAdmin, context: ContextDep) -> StaffOut:
    """Add an account (with no password it signs in with API tokens only)."""
    return actions.create_staff(context, staff.actor, body)


@router.patch("/api/staff/{user_id}", response_model=StaffOut)
def change_staff(
    user_id: RowId, body: StaffChange, staff: StaffAdmin, context: ContextDep
) -> StaffOut:
    """Change an account's role or disable it (either ends all its sessions), or set the
    extension whose calls pop on its screen."""
    return actions.change_staff(context, staff.actor, user_id, body)


@router.put("/api/staff/{user_id}/password", status_code=204)
def reset_password(
    user_id: RowId, body: NewPassword, staff: StaffAdmin, context: ContextDep
) -> Response:
    """Set a new password; the account's sessions end."""
    actions.reset_password(context, staff.actor, user_id, body.password)
    return Response(status_code=204)


@router.post("/api/staff/{user_id}/temporary-password", response_model=TemporaryPassword)
def reset_to_temporary_password(
    user_id: RowId, staff: StaffAdmin, context: ContextDep, response: Response
) -> TemporaryPassword:
    """Reset a forgotten password: a new random temporary one, in this answer only; its
    holder must choose their own at the next sign-in (within three days). The account's
    sessions end, its tokens are revoked and any lockout is lifted."""
    response.headers["Cache-Control"] = "no-store"
    return actions.reset_to_temporary_password(context, staff.actor, user_id)


@router.post("/api/staff/{user_id}/unlock", response_model=StaffOut)
def unlock_staff(user_id: RowId, staff: StaffAdmin, context: ContextDep) -> StaffOut:
    """Lift the lockout after too many failed sign-ins."""
    return actions.unlock(context, staff.actor, user_id)


@router.get("/api/staff/approvals", response_model=AwaitingList)
def list_awaiting(staff: StaffApprover, context: ContextDep) -> AwaitingList:
    """Accounts, and changes of role, waiting for a second person's approval."""
    return actions.list_awaiting(context, staff.actor)


@router.post("/api/staff/{user_id}/approve", response_model=StaffOut)
def approve_staff(
    user_id: RowId, body: Approval, staff: StaffApprover, context: ContextDep
) -> StaffOut:
    """Approve, as the second person (a privacy officer or another administrator), an
    account or a change of role that gives access to personal data."""
    return actions.approve_staff(context, staff.actor, user_id, body)


@router.post("/api/staff/{user_id}/reject", response_model=StaffOut)
def reject_staff(user_id: RowId, staff: StaffApprover, context: ContextDep) -> StaffOut:
    """Turn down what waits: a change of role is dropped, a waiting account disabled."""
    return actions.reject_staff(context, staff.actor, user_id)


@router.get("/api/staff/{user_id}/tokens", response_model=TokenList)
def list_staff_tokens(user_id: RowId, staff: StaffAdmin, context: ContextDep) -> TokenList:
    """An account's API tokens (never their secrets)."""
    return actions.list_tokens(context, staff.actor, user_id=user_id)


@router.delete("/api/tokens/{token_id}", status_code=204)
def revoke_token(token_id: RowId, staff: StaffAdmin, context: ContextDep) -> Response:
    """Revoke an API token at once."""
    actions.revoke_token(context, staff.actor, token_id)
    return Response(status_code=204)
