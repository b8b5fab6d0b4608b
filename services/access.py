"""Need-to-know access: roles, permissions and the one dependency every staff route uses.

A route declares what it needs with ``Depends(require(Permission.X))``; the dependency
authenticates the caller, checks the matrix on the server, audits a refusal and hands
the route a ``Staff`` with which to audit what it then does. docs/permissions.md shows
the matrix in prose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request

from services import audit
from services.context import AppContext, ContextDep
from services.errors import Problem
from services.roles import Role
from services.staff.service import identify_by_token

__all__ = ["PERMISSIONS", "Permission", "Role", "Staff", "allows", "require"]


class Permission(StrEnum):
    CALLS_READ = "calls.read"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({Permission.CALLS_READ}),
    Role.SUPERVISOR: frozenset({Permission.CALLS_READ}),
    Role.PRIVACY_OFFICER: frozenset({Permission.CALLS_READ}),
    Role.ADMIN: frozenset({Permission.CALLS_READ}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Staff:
    """The authenticated staff member behind a request."""

    user_id: int
    username: str
    role: Role
    request_id: str | None

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.user_id, self.username, self.role.value, self.request_id)


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _authenticate(request: Request, context: AppContext) -> Staff | None:
    token = _bearer_token(request)
    if token is None:
        return None
    with context.sessions.begin() as session:
        identity = identify_by_token(session, token, now=context.clock.now())
    if identity is None:
        return None
    return Staff(identity.user_id, identity.username, identity.role, request.state.request_id)


def _audit_refusal(
    context: AppContext, actor: audit.Actor, request: Request, reason: str, permission: Permission
) -> None:
    route = request.scope.get("route")
    with context.sessions.begin() as session:
        audit.record(
            session,
            actor=actor,
            action="access.denied",
            at=context.clock.now(),
            outcome="denied",
            detail={
                "reason": reason,
                "permission": permission.value,
                "method": request.method,
                "route": getattr(route, "path", "unmatched"),
            },
        )


def require(permission: Permission) -> Callable[..., Staff]:
    """A dependency that admits only staff whose role grants ``permission``.

    No or bad credentials: 401. A role without the permission: 403. Both are audited.
    """

    def dependency(request: Request, context: ContextDep) -> Staff:
        staff = _authenticate(request, context)
        if staff is None:
            actor = audit.Actor(None, None, None, request.state.request_id)
            _audit_refusal(context, actor, request, "unauthenticated", permission)
            raise Problem(
                401,
                "Authentication required",
                "Sign in, or send a valid bearer token in the Authorization header.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not allows(staff.role, permission):
            _audit_refusal(context, staff.actor, request, "role", permission)
            raise Problem(403, "Forbidden", "Your role does not allow this.")
        return staff

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency
