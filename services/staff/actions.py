"""Staff accounts, console sessions and API tokens, one function per use case: each opens
its unit of work, does the work through the service, and leaves its audit entry (also
when the account or token is not there). The staff API, the console and the command
line call these; none of them opens a transaction or writes an audit entry itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.directory import service as directory
from services.platform.actions import Work, unit_of_work
from services.platform.audit import Actor
from services.platform.auth import Refusal, needs_second_person
from services.platform.context import AppContext
from services.platform.errors import InvalidField, NotFound, Problem, existing
from services.platform.roles import Role
from services.staff import service as accounts
from services.staff import sign_in as sessions
from services.staff.models import StaffUser
from services.staff.schemas import (
    Approval,
    AwaitingList,
    AwaitingOut,
    IssuedToken,
    NewStaff,
    PresenceOut,
    SessionOut,
    SessionStarted,
    SignIn,
    StaffChange,
    StaffList,
    StaffOut,
    TemporaryPassword,
    TokenList,
    TokenOut,
    TotpEnrolment,
)

# -- console sessions ------------------------------------------------------------------


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
    policy = context.part(sessions.SessionPolicy)
    return SessionOut(
        username=username,
        role=role,
        csrf_token=sessions.csrf_token(context.keyring, token),
        expires_at=expires_at.astimezone(context.city_tz),
        idle_timeout_seconds=int(policy.idle.total_seconds()),
        second_factor="enrolment_required" if pending else ("done" if totp_enabled else "not_used"),
    )


def _refusal(refused: sessions.SignInRefused) -> Problem:
    if refused.retry_after is not None:
        return Problem(
            429,
            "Too many failed sign-ins",
            refused.message,
            headers={"Retry-After": str(refused.retry_after)},
        )
    if refused.reason == "second_factor":
        return Problem(
            401,
            "Second factor required",
            refused.message,
            errors=[{"field": "totp_code", "message": "is required for this account"}],
        )
    if refused.reason == "new_password":
        return Problem(
            401,
            "New password required",
            refused.message,
            errors=[{"field": "new_password", "message": refused.message}],
        )
    return Problem(401, "Sign-in failed", refused.message)


def sign_in(
    context: AppContext, attempt: SignIn, *, client_network: str, request_id: str | None
) -> SessionStarted:
    """Open a console session. A failure is counted (per account and per network; too
    many lock the account or throttle the network) and audited with a keyed hash of the
    name tried, then refused: 429 while locked or throttled, else 401."""
    policy = context.part(sessions.SessionPolicy)
    refused: sessions.SignInRefused | None = None
    anonymous = Actor(None, None, None, request_id)
    with unit_of_work(context, anonymous, "auth.sign_in", object_type="staff_user") as work:
        try:
            signed = sessions.sign_in(
                work.session,
                context.keyring,
                username=attempt.username,
                password=attempt.password,
                totp_code=attempt.totp_code,
                client_network=client_network,
                now=work.now,
                policy=policy,
                new_password=attempt.new_password,
            )
        except sessions.SignInRefused as exc:
            refused = exc
            locked = exc.reason == "credentials" and sessions.record_failure(
                work.session,
                context.keyring,
                username=attempt.username,
                client_network=client_network,
                now=work.now,
                policy=policy,
            )
            work.outcome = "failed"
            work.note(
                reason=exc.reason,
                account_hash=context.keyring.keyed_hash("audit-account", attempt.username.lower()),
                locked_now=locked,
            )
        else:
            # Signed in: the entry names who, and the session they now hold.
            work.actor = Actor(signed.user_id, signed.username, signed.role.value, request_id)
            work.object_type, work.object_id = "staff_session", str(signed.session_id)
            work.note(second_factor_pending=signed.second_factor_pending)
            if signed.replaced_temporary_password:
                work.note(temporary_password_replaced=True)
    if refused is not None:
        # Not a rollback: the failure count (the lockout's memory) commits with its entry.
        raise _refusal(refused)
    return SessionStarted(
        token=signed.token,
        cookie_seconds=int(policy.lifetime.total_seconds()),
        session=_session_out(
            context,
            username=signed.username,
            role=signed.role,
            token=signed.token,
            expires_at=signed.expires_at,
            pending=signed.second_factor_pending,
            totp_enabled=attempt.totp_code is not None,
        ),
    )


def session_of(context: AppContext, token: str | None) -> sessions.SessionIdentity | None:
    """The console session a cookie holds, or None once it has ended for any reason.
    (Not audited: it is how a request is let in, like a bearer token's look-up.)"""
    if not token:
        return None
    with context.db.begin() as session:
        return sessions.identify_by_session(
            session, token, now=context.clock.now(), policy=context.part(sessions.SessionPolicy)
        )


def read_session(context: AppContext, token: str) -> SessionOut:
    """Who is signed in with the session ``token``, when it ends, and its CSRF token;
    401 when it has ended."""
    found = session_of(context, token)
    if found is None:
        raise Problem(401, "Not signed in", "The session has ended.")
    return _session_out(
        context,
        username=found.username,
        role=found.role,
        token=token,
        expires_at=found.expires_at,
        pending=found.second_factor_pending,
        totp_enabled=found.totp_enabled,
    )


def sign_out(context: AppContext, actor: Actor, session_id: int) -> None:
    """End a console session (its cookie no longer lets anyone in)."""
    with unit_of_work(
        context, actor, "auth.sign_out", object_type="staff_session", object_id=str(session_id)
    ) as work:
        sessions.sign_out(work.session, session_id=session_id, now=work.now)


def sign_out_by_form(
    context: AppContext, token: str | None, *, csrf_token: str, request_id: str | None
) -> None:
    """Sign out from the console's form: the session the cookie holds ends, when the form
    carries that session's CSRF token (Refusal otherwise). No session: nothing to end."""
    found = session_of(context, token)
    if found is None or token is None:
        return
    if not sessions.csrf_matches(context.keyring, token, csrf_token):
        raise Refusal(403, "csrf", "The form lacks this session's CSRF token; reload the page.")
    actor = Actor(found.user_id, found.username, found.role.value, request_id)
    sign_out(context, actor, found.session_id)


def begin_totp(
    context: AppContext, actor: Actor, user_id: int, *, current_code: str | None = None
) -> TotpEnrolment:
    """Start setting up a second factor (not in force until confirmed with a code). To
    replace a confirmed one, ``current_code`` from it is needed (422 otherwise, audited);
    the old factor stays in force until the new one is confirmed."""
    with unit_of_work(
        context, actor, "auth.totp_enrolment", object_type="staff_user", object_id=str(user_id)
    ) as work:
        try:
            uri = sessions.begin_totp_enrolment(
                work.session,
                context.keyring,
                user_id=user_id,
                current_code=current_code,
                now=work.now,
            )
        except accounts.StaffError as exc:
            raise NotFound("staff account") from exc
        except sessions.CurrentCodeNeeded as exc:
            raise InvalidField(
                "current_code",
                "a current code from the second factor in use is needed to replace it",
            ) from exc
        work.outcome = "started"
        return TotpEnrolment(provisioning_uri=uri)


def confirm_totp(
    context: AppContext, actor: Actor, *, user_id: int, session_id: int, code: str
) -> None:
    """Turn the second factor on with a current code; the session is then complete.
    A code that does not match is refused (422, audited)."""
    with unit_of_work(
        context, actor, "auth.totp_enrolment", object_type="staff_user", object_id=str(user_id)
    ) as work:
        confirmed = sessions.confirm_totp_enrolment(
            work.session,
            context.keyring,
            user_id=user_id,
            code=code,
            session_id=session_id,
            now=work.now,
        )
        if not confirmed:
            raise InvalidField("code", "does not match; check the app and the clock")
        work.outcome = "confirmed"


def agent_extension(context: AppContext, user_id: int) -> str | None:
    """The extension whose ringing calls pop on this person's screen, if one is set (for
    a person with a destination of their own: their department)."""
    with context.db() as session:
        user = accounts.get_user(session, user_id)
        if user is None:
            return None
        return user.department if user.destination else user.extension


def rings_personally(context: AppContext, user_id: int) -> bool:
    """True when calls are offered to this person at their own destination: their
    screen pops only with the calls offered to them."""
    with context.db() as session:
        user = accounts.get_user(session, user_id)
        return user is not None and user.destination is not None


# -- presence --------------------------------------------------------------------------


def _presence_out(context: AppContext, user: StaffUser, now: datetime) -> PresenceOut:
    state, since = accounts.effective_presence(
        user, now=now, policy=context.part(accounts.PresencePolicy)
    )
    return PresenceOut(
        state=state,
        since=None if since is None else since.astimezone(context.city_tz),
        destination=user.destination,
        department=user.department,
    )


def read_presence(context: AppContext, actor: Actor) -> PresenceOut:
    """The signed-in person's presence as routing sees it (a wrap-up past its limit is
    available again)."""
    with unit_of_work(
        context, actor, "presence.view", object_type="staff_user", object_id=str(actor.user_id)
    ) as work:
        user = _account(work.session, actor.user_id or 0)
        return _presence_out(context, user, work.now)


def set_presence(context: AppContext, actor: Actor, state: str) -> PresenceOut:
    """Set the signed-in person's presence. Only ``available`` people of a department
    are offered its calls; staying in a state keeps its since-time (idle time)."""
    with unit_of_work(
        context, actor, "presence.set", object_type="staff_user", object_id=str(actor.user_id)
    ) as work:
        user = _account(work.session, actor.user_id or 0)
        current, since = accounts.effective_presence(
            user, now=work.now, policy=context.part(accounts.PresencePolicy)
        )
        work.note(state={"from": current, "to": state})
        try:
            if current == state and since is not None:
                accounts.set_presence(work.session, user=user, state=state, now=since)
            else:
                accounts.set_presence(work.session, user=user, state=state, now=work.now)
        except accounts.StaffError as exc:
            raise InvalidField("state", str(exc)) from exc
        return _presence_out(context, user, work.now)


# -- administrators: accounts ----------------------------------------------------------


def _account(session: Session, user_id: int) -> StaffUser:
    return existing(accounts.get_user(session, user_id), "staff account")


def _account_to_change(session: Session, user_id: int) -> StaffUser:
    """The account, locked until the change commits: of two changes at once (two
    approvers, an approval and a turn-down) the second waits and sees the first."""
    return existing(accounts.get_user(session, user_id, lock=True), "staff account")


def _out(context: AppContext, user: StaffUser) -> StaffOut:
    return StaffOut.of(user, context.city_tz, now=context.clock.now())


def list_staff(context: AppContext, actor: Actor) -> StaffList:
    """Every staff account."""
    with unit_of_work(context, actor, "staff.list", object_type="staff_user") as work:
        users = accounts.list_users(work.session)
        work.note(results=len(users))
        return StaffList(items=[_out(context, user) for user in users])


def create_staff(
    context: AppContext,
    actor: Actor,
    new: NewStaff,
    *,
    via: str | None = None,
    direct: bool = False,
) -> StaffOut:
    """Add an account (with no password it signs in with API tokens only). A role that
    reads personal data or grants access waits for a second person's approval (the
    account cannot be used until then), unless ``direct`` (the operator's command line on
    the server). A name that is malformed or taken is refused (422, audited). ``via``
    names a channel other than the API in the audit entry (the command line)."""
    with unit_of_work(context, actor, "staff.create", object_type="staff_user") as work:
        if via is not None:
            work.note(via=via)
        held = not direct and needs_second_person(new.role)
        try:
            user = accounts.create_user(
                work.session,
                username=new.username,
                role=new.role,
                password=new.password,
                now=work.now,
                requested_by=actor.user_id,
                awaiting_approval=held,
            )
        except accounts.StaffError as exc:
            raise InvalidField("username", str(exc)) from exc
        work.object_id = str(user.id)
        work.note(role=user.role, approval="awaiting" if held else "not_needed")
        _place(context, work, user, destination=new.destination, department=new.department)
        return _out(context, user)


def _place(
    context: AppContext,
    work: Work,
    user: StaffUser,
    *,
    destination: str | None,
    department: str | None,
) -> None:
    """Set where the person's calls ring and whose calls they take (None: unchanged,
    empty: cleared). A malformed or taken destination, or a department the menu does not
    have, is refused (422)."""
    if destination is not None and (destination.strip() or None) != user.destination:
        try:
            accounts.set_destination(
                work.session,
                user=user,
                destination=destination.strip() or None,
                region=context.region,
                now=work.now,
            )
        except accounts.StaffError as exc:
            raise InvalidField("destination", str(exc)) from exc
        work.note(destination_set=user.destination is not None)
    if department is not None and (department or None) != user.department:
        if department and directory.get_extension(work.session, department) is None:
            raise InvalidField("department", "is not a key of the IVR menu")
        user.department = department or None
        user.updated_at = work.now
        work.note(department=user.department)


def change_staff(context: AppContext, actor: Actor, user_id: int, change: StaffChange) -> StaffOut:
    """Change an account's role or disable it (either ends all its sessions), or set the
    extension whose calls pop on its screen. A role that reads personal data or grants
    access waits for a second person's approval (``pending_role``). The last active
    administrator keeps both (409)."""
    with unit_of_work(
        context, actor, "staff.change", object_type="staff_user", object_id=str(user_id)
    ) as work:
        user = _account_to_change(work.session, user_id)
        losing_admin = change.role not in (None, Role.ADMIN) or change.disabled is True
        if losing_admin and accounts.is_last_active_admin(work.session, user):
            raise Problem(409, "Conflict", "This is the last active administrator.")
        if change.role is not None and change.role.value not in (user.role, user.pending_role):
            if user.approved_at is None:
                # Not in force yet: the approver will see (and approve) the new role.
                work.note(role={"from": user.role, "to": change.role.value})
                user.role = change.role.value
                accounts.request_approval(work.session, user=user, by=actor.user_id, now=work.now)
            elif needs_second_person(change.role):
                work.note(role={"from": user.role, "to": change.role.value}, approval="awaiting")
                accounts.request_approval(
                    work.session, user=user, by=actor.user_id, now=work.now, role=change.role
                )
            else:
                work.note(role={"from": user.role, "to": change.role.value})
                user.pending_role = None
                accounts.change_role(work.session, user=user, role=change.role, now=work.now)
        elif change.role is not None and change.role.value == user.role and user.pending_role:
            work.note(role={"withdrawn": user.pending_role})
            user.pending_role = None
        if change.disabled is not None and change.disabled != (user.disabled_at is not None):
            work.note(disabled=change.disabled)
            accounts.set_disabled(work.session, user=user, disabled=change.disabled, now=work.now)
            if not change.disabled:
                sessions.clear_lock(work.session, context.keyring, user.username)
                if user.approved_at is None:  # enabled again, it waits again, asked by this actor
                    accounts.request_approval(
                        work.session, user=user, by=actor.user_id, now=work.now
                    )
        extension = change.extension or None
        if change.extension is not None and extension != user.extension:
            work.note(extension=extension)
            accounts.set_extension(work.session, user=user, extension=extension, now=work.now)
        _place(context, work, user, destination=change.destination, department=change.department)
        return _out(context, user)


def reset_password(context: AppContext, actor: Actor, user_id: int, password: str) -> None:
    """Set a new password; the account's sessions end and its API tokens are revoked.
    Someone else's account whose role reads personal data then waits for a second
    person's approval: whoever set the password cannot use it to read that data alone."""
    with unit_of_work(
        context, actor, "staff.password_reset", object_type="staff_user", object_id=str(user_id)
    ) as work:
        user = _account_to_change(work.session, user_id)
        try:
            revoked = accounts.set_password(
                work.session, user=user, password=password, now=work.now
            )
        except accounts.StaffError as exc:
            raise InvalidField("password", str(exc)) from exc
        sessions.clear_lock(work.session, context.keyring, user.username)
        work.note(tokens_revoked=revoked)
        if actor.user_id != user.id and needs_second_person(Role(user.role)):
            accounts.request_approval(work.session, user=user, by=actor.user_id, now=work.now)
            work.note(approval="awaiting")


def reset_to_temporary_password(
    context: AppContext, actor: Actor, user_id: int
) -> TemporaryPassword:
    """Give an account a new random temporary password, returned once (never stored in
    clear, never in the audit entry): its holder must choose their own at the next
    sign-in, within three days. Sessions end, tokens are revoked and the lockout is
    lifted, as with any new password; someone else's account whose role reads personal
    data waits for a second person's approval (whoever saw the temporary password could
    otherwise sign in with it alone)."""
    with unit_of_work(
        context, actor, "staff.password_reset", object_type="staff_user", object_id=str(user_id)
    ) as work:
        user = _account_to_change(work.session, user_id)
        password, revoked = accounts.set_temporary_password(work.session, user=user, now=work.now)
        sessions.clear_lock(work.session, context.keyring, user.username)
        work.note(temporary=True, tokens_revoked=revoked)
        waits = actor.user_id != user.id and needs_second_person(Role(user.role))
        if waits:
            accounts.request_approval(work.session, user=user, by=actor.user_id, now=work.now)
            work.note(approval="awaiting")
        until = user.password_temporary_until or work.now
        return TemporaryPassword(
            username=user.username,
            temporary_password=password,
            expires_at=until.astimezone(context.city_tz),
            tokens_revoked=revoked,
            awaits_approval=waits,
        )


def unlock(context: AppContext, actor: Actor, user_id: int) -> StaffOut:
    """Lift the lockout that too many failed sign-ins put on an account (its name's
    failures are forgotten too); unlocking an account that is not locked changes nothing."""
    with unit_of_work(
        context, actor, "staff.unlock", object_type="staff_user", object_id=str(user_id)
    ) as work:
        user = _account_to_change(work.session, user_id)
        work.note(was_locked=user.locked_until is not None and user.locked_until > work.now)
        sessions.clear_lock(work.session, context.keyring, user.username)
        user.locked_until = None
        user.updated_at = work.now
        return _out(context, user)


# -- separation of duties: the second person ------------------------------------------


def _awaiting_out(
    user: StaffUser, waiting: accounts.Awaiting, names: dict[int, str], context: AppContext
) -> AwaitingOut:
    return AwaitingOut(
        id=user.id,
        username=user.username,
        kind="account" if waiting.kind == "account" else "role",
        role=waiting.role,
        current_role=Role(user.role) if waiting.kind == "role" else None,
        requested_by=names.get(user.requested_by_id or 0),
        requested_at=user.requested_at.astimezone(context.city_tz) if user.requested_at else None,
    )


def list_awaiting(context: AppContext, actor: Actor) -> AwaitingList:
    """Accounts and changes of role waiting for a second person."""
    with unit_of_work(context, actor, "staff.approvals", object_type="staff_user") as work:
        users = accounts.list_awaiting(work.session)
        names = accounts.usernames(
            work.session, {user.requested_by_id for user in users if user.requested_by_id}
        )
        items = []
        for user in users:
            waiting = accounts.awaiting(user)
            if waiting is not None:
                items.append(_awaiting_out(user, waiting, names, context))
        work.note(results=len(items))
        return AwaitingList(items=items)


def _second_person(actor: Actor, user: StaffUser) -> None:
    if actor.user_id is None or actor.user_id in (user.requested_by_id, user.id):
        raise Problem(
            403,
            "A second person must approve",
            "Who asked for this, and the account itself, cannot approve it.",
        )


def approve_staff(context: AppContext, actor: Actor, user_id: int, approval: Approval) -> StaffOut:
    """Approve, as the second person, what waits on an account: the account itself or a
    change of its role. 409 when nothing waits or it is not the role the approver saw;
    403 for whoever asked for it and for the account itself."""
    with unit_of_work(
        context, actor, "staff.approve", object_type="staff_user", object_id=str(user_id)
    ) as work:
        user = _account_to_change(work.session, user_id)
        waiting = accounts.awaiting(user)
        if waiting is None:
            raise Problem(409, "Conflict", "Nothing on this account waits for approval.")
        work.note(kind=waiting.kind, role=waiting.role.value, requested_by=user.requested_by_id)
        if waiting.role != approval.role:
            raise Problem(409, "Conflict", "What waits for approval has changed; look again.")
        _second_person(actor, user)
        if (
            waiting.kind == "role"
            and waiting.role != Role.ADMIN
            and accounts.is_last_active_admin(work.session, user)
        ):
            raise Problem(409, "Conflict", "This is the last active administrator.")
        accounts.approve(work.session, user=user, by=actor.user_id or 0, now=work.now)
        return _out(context, user)


def reject_staff(context: AppContext, actor: Actor, user_id: int) -> StaffOut:
    """Turn down what waits on an account: a change of role is dropped, an account that
    waits is disabled. 409 when nothing waits."""
    with unit_of_work(
        context, actor, "staff.reject", object_type="staff_user", object_id=str(user_id)
    ) as work:
        user = _account_to_change(work.session, user_id)
        waiting = accounts.reject(work.session, user=user, now=work.now)
        if waiting is None:
            raise Problem(409, "Conflict", "Nothing on this account waits for approval.")
        work.note(kind=waiting.kind, role=waiting.role.value)
        return _out(context, user)


# -- API tokens ------------------------------------------------------------------------


def issue_token(
    context: AppContext,
    actor: Actor,
    *,
    username: str,
    days: int,
    label: str = "cli",
    via: str | None = None,
) -> IssuedToken:
    """A new bearer token for an active account, living ``days`` (1 to 366); the token
    itself is returned once and never stored."""
    with unit_of_work(context, actor, "token.issue", object_type="api_token") as work:
        if via is not None:
            work.note(via=via)
        if not 1 <= days <= 366:
            raise InvalidField("days", "a token lives between 1 and 366 days")
        try:
            token, row = accounts.issue_token(
                work.session, username=username, days=days, now=work.now, label=label
            )
        except accounts.StaffError as exc:
            raise NotFound("active staff account") from exc
        work.object_id = str(row.id)
        work.note(user_id=row.user_id, days=days)
        return IssuedToken(token=token, id=row.id)


def list_tokens(
    context: AppContext,
    actor: Actor,
    *,
    user_id: int | None = None,
    username: str | None = None,
    via: str | None = None,
) -> TokenList:
    """API tokens (never their secrets), newest first: one account's by its id (which
    must exist), those of the account called ``username``, or everyone's."""
    with unit_of_work(
        context,
        actor,
        "token.list",
        object_type="staff_user",
        object_id=None if user_id is None else str(user_id),
    ) as work:
        if via is not None:
            work.note(via=via)
        if user_id is not None:
            username = _account(work.session, user_id).username
        rows = accounts.list_tokens(work.session, username=username)
        work.note(results=len(rows))
        return TokenList(items=[TokenOut.of(token, name) for token, name in rows])


def revoke_token(
    context: AppContext, actor: Actor, token_id: int, *, via: str | None = None
) -> None:
    """Revoke an API token at once (revoking a revoked token changes nothing)."""
    with unit_of_work(
        context, actor, "token.revoke", object_type="api_token", object_id=str(token_id)
    ) as work:
        if via is not None:
            work.note(via=via)
        try:
            token = accounts.revoke_token(work.session, token_id=token_id, now=work.now)
        except accounts.StaffError as exc:
            raise NotFound("token") from exc
        work.note(user_id=token.user_id)
