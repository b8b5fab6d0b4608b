"""Every route, every role (and none): the permission matrix holds and denials are audited.

Routes are found by walking the app, so a route added later is checked the day it lands;
one with neither require() nor a place among the public routes fails this test.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.app.factory import create_app
from services.platform.auth import PERMISSIONS, Permission
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.roles import Role
from tests.support import PUBLIC_URL, StaffFactory, api_routes, is_public


def concrete(path: str) -> str:
    """A path template with its parameters filled: large ids that match nothing."""
    return re.sub(r"\{[^}]+\}", "999999", path)


def test_every_route_is_guarded_or_deliberately_public(sqlite_context: AppContext) -> None:
    routes = api_routes(create_app(sqlite_context))
    assert any(route.path == "/api/calls/search" for route in routes)
    unguarded = [
        f"{sorted(route.methods)} {route.path}"
        for route in routes
        if route.permission is None and not is_public(route.path)
    ]
    assert unguarded == []


def test_every_route_follows_the_matrix_and_every_denial_is_audited(
    sqlite_context: AppContext,
) -> None:
    app = create_app(sqlite_context)
    factory = StaffFactory(sqlite_context)
    headers = {
        role: factory.headers(role, f"matrix-{role.value.replace('_', '-')}") for role in Role
    }
    guarded = [
        (route, method, route.permission)
        for route in api_routes(app)
        if route.permission is not None
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert len(guarded) >= 8
    seen_denials = 0
    with TestClient(app, base_url=PUBLIC_URL) as client:
        for route, method, permission in guarded:
            url = concrete(route.path)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            anonymous = client.request(method, url, json=body)
            assert anonymous.status_code == 401, (method, route.path)
            for role in Role:
                response = client.request(method, url, json=body, headers=headers[role])
                allowed = permission in PERMISSIONS[role]
                if allowed:
                    assert response.status_code not in (401, 403), (method, route.path, role)
                else:
                    assert response.status_code == 403, (method, route.path, role)
            denials = 1 + sum(1 for role in Role if permission not in PERMISSIONS[role])
            with sqlite_context.db() as session:
                audited = session.scalars(
                    sa.select(AuditEntry)
                    .where(AuditEntry.action == "access.denied")
                    .order_by(AuditEntry.seq.desc())
                    .limit(denials)
                ).all()
            assert len(audited) == denials
            assert {entry.detail["route"] for entry in audited} == {route.path}
            assert {entry.detail["permission"] for entry in audited} == {permission.value}
            seen_denials += denials
    assert seen_denials > len(guarded)


def test_knowledge_editors_keep_answers_and_nothing_else() -> None:
    """Editors change the knowledge base and see no calls, requests or callers; call
    takers and supervisors read it; administrators manage accounts, not content."""
    editor = PERMISSIONS[Role.KNOWLEDGE_EDITOR]
    assert editor == {Permission.KB_READ, Permission.KB_EDIT}
    for role in (Role.AGENT, Role.SUPERVISOR):
        assert Permission.KB_READ in PERMISSIONS[role]
    assert [role for role in Role if Permission.KB_EDIT in PERMISSIONS[role]] == [
        Role.KNOWLEDGE_EDITOR
    ]
    assert Permission.KB_READ not in PERMISSIONS[Role.ADMIN]
