"""Need-to-know access: roles, permissions and the one dependency every staff route uses.

A route declares what it needs with ``Depends(require(Permission.X))``, through the one
alias declared here for each permission (``staff: CallReader``); the dependency
authenticates the caller, checks the matrix on the server, audits a refusal and hands
the route a ``Staff`` with which to audit what it then does. docs/permissions.md shows
the matrix in prose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from services.platform import audit
from services.platform.context import AppContext, ContextDep
from services.platform.errors import Problem
from services.platform.roles import Role

__all__ = [
    "PERMISSIONS",
    "AgentReportReader",
    "Auditor",
    "Authentication",
    "BounceRecorder",
    "CallReader",
    "CallbackPlacer",
    "Communications",
    "ConfigAdmin",
    "ContactCreator",
    "ContactReader",
    "DisclosureOfficer",
    "Evaluator",
    "HoldKeeper",
    "Identity",
    "KnowledgeEditor",
    "KnowledgeReader",
    "MessageReader",
    "OwnScoreReader",
    "Permission",
    "PresenceHolder",
    "PrivacyOfficer",
    "QaFormEditor",
    "RecordingController",
    "RecordingListener",
    "RecordingReader",
    "ReportReader",
    "RequestEditor",
    "RequestFiler",
    "RequestReader",
    "Role",
    "Scheduler",
    "Staff",
    "StaffAdmin",
    "StaffApprover",
    "WrapperUp",
    "allows",
    "authenticate",
    "needs_second_person",
    "require",
    "required_permission",
]


class Permission(StrEnum):
    """What a route may need. Grant by role in PERMISSIONS, nowhere else."""

    CALLS_READ = "calls.read"  # call metadata, numbers included
    REQUESTS_CREATE = "requests.create"
    REQUESTS_READ = "requests.read"  # requests with the contact details of those found
    REQUESTS_UPDATE = "requests.update"  # status, notes, corrections
    APPOINTMENTS_MANAGE = "appointments.manage"
    MESSAGES_READ = "messages.read"  # the SMS and email outboxes, callers' replies
    RECORDINGS_READ = "recordings.read"  # the list of recordings and their metadata
    RECORDINGS_PLAY = "recordings.play"  # audio: playback and download
    RECORDING_CONTROL = "recordings.control"  # pause and resume recording on a live call
    QA_EVALUATE = "qa.evaluate"
    QA_OWN_READ = "qa.own.read"  # one's own evaluations
    QA_FORMS_MANAGE = "qa.forms.manage"
    REPORTS_READ = "reports.read"  # aggregate statistics only
    PRIVACY_REQUESTS = "privacy.requests"  # access and correction requests, exports
    LEGAL_HOLDS = "privacy.holds"
    DISCLOSURES = "privacy.disclosures"
    AUDIT_READ = "audit.read"
    STAFF_MANAGE = "staff.manage"
    STAFF_APPROVE = "staff.approve"  # the second person for accounts with data access
    CONFIG_MANAGE = "config.manage"  # IVR menu, service catalogue, retention schedules
    PRESENCE_SET = "presence.set"  # one's own presence: available, busy, wrap-up, away
    CONTACTS_CREATE = "contacts.create"  # log a contact by hand
    CONTACTS_READ = "contacts.read"  # contacts, their topics and outcomes (notes included)
    CONTACTS_WRAP_UP = "contacts.wrap_up"  # one's own contacts (supervisors: anyone's)
    CALLBACKS = "callbacks.place"  # ring a caller back from a request or contact
    REPORTS_AGENTS = "reports.agents"  # handle and after-contact work time per agent
    KB_READ = "kb.read"  # knowledge-base articles and their history
    KB_EDIT = "kb.edit"  # write, change and retire knowledge-base articles
    ALERTS_MANAGE = "alerts.manage"  # write, preview and send news alerts; their counts
    EMAIL_SUPPRESS = "email.suppress"  # record a hard bounce or a complaint


# What a call taker does: answer calls and texts, file and follow requests, book visits,
# log contacts, pause recordings and read their own QA scores and the knowledge base.
_TAKING_CALLS = frozenset(
    {
        Permission.CALLS_READ,
        Permission.REQUESTS_CREATE,
        Permission.REQUESTS_READ,
        Permission.REQUESTS_UPDATE,
        Permission.APPOINTMENTS_MANAGE,
        Permission.MESSAGES_READ,
        Permission.RECORDING_CONTROL,
        Permission.QA_OWN_READ,
        Permission.PRESENCE_SET,
        Permission.CONTACTS_CREATE,
        Permission.CONTACTS_READ,
        Permission.CONTACTS_WRAP_UP,
        Permission.CALLBACKS,
        Permission.KB_READ,
    }
)

# Need to know, by position. Administrators run accounts and configuration and read no
# personal data: a person who needs both holds two accounts.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: _TAKING_CALLS,
    # A supervisor takes calls too, and listens to them, scores them and reads reports.
    Role.SUPERVISOR: _TAKING_CALLS
    | {
        Permission.RECORDINGS_READ,
        Permission.RECORDINGS_PLAY,
        Permission.QA_EVALUATE,
        Permission.QA_FORMS_MANAGE,
        Permission.REPORTS_READ,
        Permission.REPORTS_AGENTS,
    },
    Role.PRIVACY_OFFICER: frozenset(
        {
            Permission.CALLS_READ,
            Permission.REQUESTS_READ,
            Permission.REQUESTS_UPDATE,
            Permission.MESSAGES_READ,
            Permission.RECORDINGS_READ,
            Permission.REPORTS_READ,
            Permission.PRIVACY_REQUESTS,
            Permission.LEGAL_HOLDS,
            Permission.DISCLOSURES,
            Permission.AUDIT_READ,
            Permission.STAFF_APPROVE,
            Permission.CONTACTS_READ,
            Permission.EMAIL_SUPPRESS,
        }
    ),
    # News alerts go to subscribers' addresses, which the role never sees: it writes,
    # previews and sends, and reads only counts.
    Role.COMMUNICATIONS: frozenset(
        {
            Permission.ALERTS_MANAGE,
            Permission.EMAIL_SUPPRESS,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.STAFF_MANAGE,
            Permission.STAFF_APPROVE,
            Permission.CONFIG_MANAGE,
            Permission.REPORTS_READ,
        }
    ),
    # Content, not accounts: editors keep the answers call takers read and see no calls,
    # requests or callers; administrators manage accounts and do not edit answers.
    Role.KNOWLEDGE_EDITOR: frozenset({Permission.KB_READ, Permission.KB_EDIT}),
}


# What reads personal data, and what hands out access to it. A role holding any of these
# is only given (to a new account, or by a change of role) through the staff API or
# console when a second person approves.
PERSONAL_DATA_PERMISSIONS = frozenset(
    {
        Permission.CALLS_READ,
        Permission.REQUESTS_READ,
        Permission.MESSAGES_READ,
        Permission.RECORDINGS_READ,
        Permission.RECORDINGS_PLAY,
        Permission.PRIVACY_REQUESTS,
        Permission.DISCLOSURES,
        Permission.AUDIT_READ,
        Permission.CONTACTS_READ,
    }
)
GRANTING_PERMISSIONS = frozenset({Permission.STAFF_MANAGE, Permission.STAFF_APPROVE})


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def needs_second_person(role: Role) -> bool:
    """Whether giving ``role`` needs a second person's approval: it reads personal data,
    or it can create or approve accounts that do."""
    granted = PERMISSIONS.get(role, frozenset())
    return bool(granted & (PERSONAL_DATA_PERMISSIONS | GRANTING_PERMISSIONS))


@dataclass(frozen=True)
class Identity:
    """Whom a bearer token or console session belongs to."""

    user_id: int
    username: str
    role: Role
    session_id: int | None = None
    second_factor_pending: bool = False


@dataclass(frozen=True)
class Authentication:
    """How credentials become a staff member; the staff feature supplies it at start-up.

    Each lookup runs in the caller's transaction and returns None for credentials that
    are unknown, expired, revoked or belong to a disabled account.
    """

    by_token: Callable[[Session, str, datetime], Identity | None]
    by_session: Callable[[Session, str, datetime], Identity | None]
    csrf_matches: Callable[[str, str | None], bool]


SESSION_COOKIE = "sb_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Staff:
    """The authenticated staff member behind a request."""

    user_id: int
    username: str
    role: Role
    request_id: str | None
    via: str = "token"  # or "session"
    session_id: int | None = None

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.user_id, self.username, self.role.value, self.request_id)

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)


class Refusal(Exception):
    """Why credentials that were presented do not admit the request."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(
    request: Request, context: AppContext, *, allow_pending: bool = False
) -> Staff | None:
    """Who sent the request: a bearer token, or a console session cookie (whose unsafe
    requests must carry the session's CSRF token). None when neither is presented or valid.

    Raises Refusal for a session that may not do this yet (second factor pending) or a
    missing or wrong CSRF token.
    """
    token = _bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    now = context.clock.now()
    request_id = request.state.request_id
    authentication = context.part(Authentication)
    if token is not None:
        with context.db.begin() as session:
            identity = authentication.by_token(session, token, now)
        if identity is None:
            return None
        return Staff(identity.user_id, identity.username, identity.role, request_id)
    if not cookie:
        return None
    with context.db.begin() as session:
        found = authentication.by_session(session, cookie, now)
    if found is None:
        return None
    staff = Staff(
        found.user_id, found.username, found.role, request_id, "session", found.session_id
    )
    if request.method not in SAFE_METHODS and not authentication.csrf_matches(
        cookie, request.headers.get(CSRF_HEADER)
    ):
        raise Refusal(403, "csrf", "The request lacks this session's CSRF token; reload the page.")
    if found.second_factor_pending and not allow_pending:
        raise Refusal(
            403,
            "second_factor",
            "Set up your second factor before going on (POST /api/session/totp).",
        )
    return staff


def audit_refusal(
    context: AppContext, actor: audit.Actor, request: Request, reason: str, needed: str
) -> None:
    route = request.scope.get("route")
    with context.db.begin() as session:
        audit.record(
            session,
            actor=actor,
            action="access.denied",
            at=context.clock.now(),
            outcome="denied",
            detail={
                "reason": reason,
                "permission": needed,
                "method": request.method,
                "route": getattr(route, "path", "unmatched"),
            },
        )


def require(permission: Permission) -> Callable[..., Staff]:
    """A dependency that admits only staff whose role grants ``permission``.

    No or bad credentials: 401. A role without the permission, a session without its
    CSRF token or second factor: 403. Every refusal is audited. The dependency carries
    ``permission`` so tests can check every route against the matrix.
    """

    def dependency(request: Request, context: ContextDep) -> Staff:
        anonymous = audit.Actor(None, None, None, request.state.request_id)
        try:
            staff = authenticate(request, context)
        except Refusal as refusal:
            audit_refusal(context, anonymous, request, refusal.reason, permission.value)
            raise Problem(refusal.status, "Forbidden", refusal.detail) from None
        if staff is None:
            audit_refusal(context, anonymous, request, "unauthenticated", permission.value)
            raise Problem(
                401,
                "Authentication required",
                "Sign in, or send a valid bearer token in the Authorization header.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not allows(staff.role, permission):
            audit_refusal(context, staff.actor, request, "role", permission.value)
            raise Problem(403, "Forbidden", "Your role does not allow this.")
        return staff

    dependency.__name__ = f"require_{permission.name.lower()}"
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def required_permission(dependency: object) -> Permission | None:
    """The permission a ``require()`` dependency demands, if it is one."""
    found = getattr(dependency, "permission", None)
    return found if isinstance(found, Permission) else None


# The staff a route admits, one alias per permission: a route names what it needs in its
# signature (``staff: CallReader``), and a permission reads the same in every router.
CallReader = Annotated[Staff, Depends(require(Permission.CALLS_READ))]
RequestFiler = Annotated[Staff, Depends(require(Permission.REQUESTS_CREATE))]
RequestReader = Annotated[Staff, Depends(require(Permission.REQUESTS_READ))]
RequestEditor = Annotated[Staff, Depends(require(Permission.REQUESTS_UPDATE))]
Scheduler = Annotated[Staff, Depends(require(Permission.APPOINTMENTS_MANAGE))]
MessageReader = Annotated[Staff, Depends(require(Permission.MESSAGES_READ))]
RecordingReader = Annotated[Staff, Depends(require(Permission.RECORDINGS_READ))]
RecordingListener = Annotated[Staff, Depends(require(Permission.RECORDINGS_PLAY))]
RecordingController = Annotated[Staff, Depends(require(Permission.RECORDING_CONTROL))]
Evaluator = Annotated[Staff, Depends(require(Permission.QA_EVALUATE))]
OwnScoreReader = Annotated[Staff, Depends(require(Permission.QA_OWN_READ))]
QaFormEditor = Annotated[Staff, Depends(require(Permission.QA_FORMS_MANAGE))]
ReportReader = Annotated[Staff, Depends(require(Permission.REPORTS_READ))]
PrivacyOfficer = Annotated[Staff, Depends(require(Permission.PRIVACY_REQUESTS))]
HoldKeeper = Annotated[Staff, Depends(require(Permission.LEGAL_HOLDS))]
DisclosureOfficer = Annotated[Staff, Depends(require(Permission.DISCLOSURES))]
Auditor = Annotated[Staff, Depends(require(Permission.AUDIT_READ))]
StaffAdmin = Annotated[Staff, Depends(require(Permission.STAFF_MANAGE))]
StaffApprover = Annotated[Staff, Depends(require(Permission.STAFF_APPROVE))]
ConfigAdmin = Annotated[Staff, Depends(require(Permission.CONFIG_MANAGE))]
PresenceHolder = Annotated[Staff, Depends(require(Permission.PRESENCE_SET))]
ContactCreator = Annotated[Staff, Depends(require(Permission.CONTACTS_CREATE))]
ContactReader = Annotated[Staff, Depends(require(Permission.CONTACTS_READ))]
WrapperUp = Annotated[Staff, Depends(require(Permission.CONTACTS_WRAP_UP))]
CallbackPlacer = Annotated[Staff, Depends(require(Permission.CALLBACKS))]
AgentReportReader = Annotated[Staff, Depends(require(Permission.REPORTS_AGENTS))]
KnowledgeReader = Annotated[Staff, Depends(require(Permission.KB_READ))]
KnowledgeEditor = Annotated[Staff, Depends(require(Permission.KB_EDIT))]
Communications = Annotated[Staff, Depends(require(Permission.ALERTS_MANAGE))]
BounceRecorder = Annotated[Staff, Depends(require(Permission.EMAIL_SUPPRESS))]
