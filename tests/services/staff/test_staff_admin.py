"""Administrators manage accounts and tokens; nobody else can."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform import audit
from services.platform.auth import PERMISSIONS, PERSONAL_DATA_PERMISSIONS, needs_second_person
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.roles import Role
from services.staff import actions
from services.staff.models import StaffUser
from services.staff.schemas import NewStaff
from services.staff.service import LAST_ADMIN_LOCK
from storage.db import advisory_key
from tests.support import Meanwhile, StaffFactory, audit_entries, staff_account


def test_an_administrator_manages_accounts(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    created = client.post(
        "/api/staff",
        json={"username": "Dana", "role": "agent", "password": "a long enough one"},
        headers=admin,
    )
    assert created.status_code == 201
    dana = created.json()
    assert (dana["username"], dana["role"], dana["disabled"]) == ("dana", "agent", False)
    assert dana["approved"] is False  # agents read personal data: a second person approves
    promoted = client.patch(f"/api/staff/{dana['id']}", json={"role": "supervisor"}, headers=admin)
    assert promoted.json()["role"] == "supervisor" and promoted.json()["approved"] is False
    disabled = client.patch(f"/api/staff/{dana['id']}", json={"disabled": True}, headers=admin)
    assert disabled.json()["disabled"] is True
    seated = client.patch(f"/api/staff/{dana['id']}", json={"extension": "2"}, headers=admin)
    assert seated.json()["extension"] == "2"
    cleared = client.patch(f"/api/staff/{dana['id']}", json={"extension": ""}, headers=admin)
    assert cleared.json()["extension"] is None
    bad = client.patch(f"/api/staff/{dana['id']}", json={"extension": "2a"}, headers=admin)
    assert bad.status_code == 422
    reset = client.put(
        f"/api/staff/{dana['id']}/password", json={"password": "another long one"}, headers=admin
    )
    assert reset.status_code == 204
    names = [user["username"] for user in client.get("/api/staff", headers=admin).json()["items"]]
    assert names == ["dana", "root"]
    assert [entry.action for entry in audit_entries(context, AuditEntry.actor_name == "root")] == [
        "staff.create",
        "staff.change",
        "staff.change",
        "staff.change",
        "staff.change",
        "staff.password_reset",
        "staff.list",
    ]


def test_bad_account_input_names_the_field(client: TestClient, staff: StaffFactory) -> None:
    admin = staff.headers("admin", "root")
    taken = client.post("/api/staff", json={"username": "root", "role": "agent"}, headers=admin)
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "username"
    weak = client.post(
        "/api/staff", json={"username": "eve", "role": "agent", "password": "short"}, headers=admin
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    mayor = client.post("/api/staff", json={"username": "eve", "role": "mayor"}, headers=admin)
    assert mayor.status_code == 422 and mayor.json()["errors"][0]["field"] == "role"
    assert (
        client.patch("/api/staff/9999", json={"disabled": True}, headers=admin).status_code == 404
    )


def test_the_last_administrator_cannot_be_removed(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    with context.db() as session:
        root_id = session.scalar(sa.select(StaffUser.id).where(StaffUser.username == "root"))
    for change in ({"disabled": True}, {"role": "agent"}):
        refused = client.patch(f"/api/staff/{root_id}", json=change, headers=admin)
        assert refused.status_code == 409
    staff.token("admin", "second-admin")
    assert (
        client.patch(f"/api/staff/{root_id}", json={"role": "agent"}, headers=admin).status_code
        == 200
    )


def test_tokens_are_listed_and_revoked(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    agent = staff.headers("agent", "ana")
    with context.db() as session:
        ana_id = session.scalar(sa.select(StaffUser.id).where(StaffUser.username == "ana"))
    tokens = client.get(f"/api/staff/{ana_id}/tokens", headers=admin).json()["items"]
    assert len(tokens) == 1 and "token_hash" not in tokens[0]
    assert (
        client.post("/api/calls/search", json={"phone": "2025550142"}, headers=agent).status_code
        == 200
    )
    assert client.delete(f"/api/tokens/{tokens[0]['id']}", headers=admin).status_code == 204
    assert (
        client.post("/api/calls/search", json={"phone": "2025550142"}, headers=agent).status_code
        == 401
    )
    trail = audit_entries(context, AuditEntry.actor_name == "root")
    assert [(entry.action, entry.object_id, entry.detail) for entry in trail] == [
        ("token.list", str(ana_id), {"results": 1}),
        ("token.revoke", str(tokens[0]["id"]), {"user_id": ana_id}),
    ]


def test_a_miss_on_an_account_or_token_is_refused_and_audited(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    assert client.get("/api/staff/999999/tokens", headers=admin).status_code == 404
    assert client.delete("/api/tokens/999999", headers=admin).status_code == 404
    taken = client.post("/api/staff", json={"username": "root", "role": "agent"}, headers=admin)
    assert taken.status_code == 422
    trail = audit_entries(context, AuditEntry.actor_name == "root")
    assert [(entry.action, entry.outcome, entry.object_id) for entry in trail] == [
        ("token.list", "not_found", "999999"),
        ("token.revoke", "not_found", "999999"),
        ("staff.create", "invalid", None),
    ]


def test_a_token_carries_its_users_current_role(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    agent = staff.headers("agent", "ana")
    with context.db() as session:
        ana_id = session.scalar(sa.select(StaffUser.id).where(StaffUser.username == "ana"))
    assert client.get("/api/audit", headers=agent).status_code == 403
    client.patch(f"/api/staff/{ana_id}", json={"role": "privacy_officer"}, headers=admin)
    assert client.get("/api/audit", headers=agent).status_code == 403  # not yet approved
    officer = staff.headers("privacy_officer", "pat")
    approved = client.post(
        f"/api/staff/{ana_id}/approve", json={"role": "privacy_officer"}, headers=officer
    )
    assert approved.status_code == 200, approved.text
    assert client.get("/api/audit", headers=agent).status_code == 200


def test_only_administrators_manage_staff(client: TestClient, staff: StaffFactory) -> None:
    for role in ("agent", "supervisor", "privacy_officer"):
        headers = staff.headers(role)
        assert client.get("/api/staff", headers=headers).status_code == 403
        assert (
            client.post(
                "/api/staff", json={"username": "x1", "role": "admin"}, headers=headers
            ).status_code
            == 403
        )


def test_a_password_reset_or_disabling_revokes_the_accounts_api_tokens(
    client: TestClient, staff: StaffFactory
) -> None:
    admin = staff.headers("admin", "root")
    dana = staff.headers("agent", "dana")
    dana_id = staff_account(client, admin, "dana")["id"]
    assert client.get("/api/calls", headers=dana).status_code == 200
    reset = client.put(
        f"/api/staff/{dana_id}/password", json={"password": "another long one"}, headers=admin
    )
    assert reset.status_code == 204
    assert client.get("/api/calls", headers=dana).status_code == 401
    tokens = client.get(f"/api/staff/{dana_id}/tokens", headers=admin).json()["items"]
    assert tokens and all(token["revoked_at"] for token in tokens)

    erin = staff.headers("agent", "erin")
    erin_id = dana_id + 1
    for disabled in (True, False):
        changed = client.patch(f"/api/staff/{erin_id}", json={"disabled": disabled}, headers=admin)
        assert changed.status_code == 200
    assert client.get("/api/calls", headers=erin).status_code == 401  # none come back


def sign_in(client: TestClient, name: str, password: str = "a long enough one") -> int:
    client.cookies.clear()
    status: int = client.post(
        "/api/session", json={"username": name, "password": password}
    ).status_code
    client.cookies.clear()
    return status


def test_every_role_that_reads_personal_data_or_grants_access_needs_a_second_person() -> None:
    # From the matrix: every role with a data permission, and the administrators, who
    # could otherwise make an account and approve it with another of their own.
    # Knowledge editors (answers) and communications staff (news alerts) read no personal
    # data and grant nothing: one person may make those.
    content_only = {Role.KNOWLEDGE_EDITOR, Role.COMMUNICATIONS}
    assert {role for role in Role if needs_second_person(role)} == set(Role) - content_only
    assert all(PERMISSIONS[role] for role in Role)
    assert not any(PERMISSIONS[role] & PERSONAL_DATA_PERMISSIONS for role in content_only)


def test_an_account_with_data_access_needs_a_second_person_to_approve_it(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    root = staff.headers("admin", "root")
    made = client.post(
        "/api/staff",
        json={"username": "dana", "role": "privacy_officer", "password": "a long enough one"},
        headers=root,
    )
    assert made.status_code == 201 and made.json()["approved"] is False
    dana = made.json()["id"]
    assert sign_in(client, "dana") == sign_in(client, "nobody") == 401  # not in force yet

    # Whoever asked cannot approve it, nor can the account itself.
    approve = f"/api/staff/{dana}/approve"
    mine = client.post(approve, json={"role": "privacy_officer"}, headers=root)
    assert mine.status_code == 403
    officer = staff.headers("privacy_officer", "pat")
    waiting = client.get("/api/staff/approvals", headers=officer).json()["items"]
    assert [(w["username"], w["kind"], w["role"], w["requested_by"]) for w in waiting] == [
        ("dana", "account", "privacy_officer", "root")
    ]
    assert client.get("/api/staff/approvals", headers=staff.headers("agent")).status_code == 403
    # The approver approves what they saw; if it changed meanwhile, they look again.
    stale = client.post(approve, json={"role": "agent"}, headers=officer)
    assert stale.status_code == 409
    approved = client.post(approve, json={"role": "privacy_officer"}, headers=officer)
    assert approved.status_code == 200 and approved.json()["approved"] is True
    assert sign_in(client, "dana") == 201
    assert (
        client.post(approve, json={"role": "privacy_officer"}, headers=officer).status_code == 409
    )

    # Promotion waits too; a second administrator may approve it.
    promoted = client.patch(f"/api/staff/{dana}", json={"role": "admin"}, headers=root)
    assert promoted.json()["role"] == "privacy_officer"
    assert promoted.json()["pending_role"] == "admin"
    other_admin = staff.headers("admin", "root2")
    done = client.post(approve, json={"role": "admin"}, headers=other_admin)
    assert done.status_code == 200 and done.json()["role"] == "admin"
    assert done.json()["pending_role"] is None

    trail = audit_entries(context, AuditEntry.object_id == str(dana))
    assert [(e.action, e.actor_name, e.outcome) for e in trail] == [
        ("staff.create", "root", "ok"),
        ("staff.approve", "root", "refused"),
        ("staff.approve", "pat", "conflict"),
        ("staff.approve", "pat", "ok"),
        ("staff.approve", "pat", "conflict"),
        ("staff.change", "root", "ok"),
        ("staff.approve", "root2", "ok"),
    ]
    assert trail[0].detail["approval"] == "awaiting"
    assert trail[3].detail == {"kind": "account", "role": "privacy_officer", "requested_by": 1}


def test_a_password_reset_by_someone_else_holds_a_data_account_until_approved(
    client: TestClient, staff: StaffFactory
) -> None:
    root = staff.headers("admin", "root")
    officer = staff.headers("privacy_officer", "pat")
    staff.headers("privacy_officer", "dana")
    dana = staff_account(client, root, "dana")["id"]
    reset = client.put(
        f"/api/staff/{dana}/password", json={"password": "a long enough one"}, headers=root
    )
    assert reset.status_code == 204
    assert sign_in(client, "dana") == 401  # root cannot read dana's data with it alone
    rejected = client.post(f"/api/staff/{dana}/reject", headers=officer)
    assert rejected.status_code == 200 and rejected.json()["disabled"] is True
    enabled = client.patch(f"/api/staff/{dana}", json={"disabled": False}, headers=root)
    assert enabled.json()["approved"] is False
    approved = client.post(
        f"/api/staff/{dana}/approve", json={"role": "privacy_officer"}, headers=officer
    )
    assert approved.status_code == 200
    assert sign_in(client, "dana") == 201


def test_the_operator_on_the_server_adds_accounts_directly(
    client: TestClient, context: AppContext
) -> None:
    new = NewStaff(username="ola", role=Role.PRIVACY_OFFICER, password="a long enough one")
    made = actions.create_staff(context, audit.SYSTEM, new, via="cli", direct=True)
    assert made.approved is True
    assert sign_in(client, "ola") == 201


# SQLite runs one writer at a time: the race is PostgreSQL's.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_of_two_approvals_at_once_the_second_waits_and_finds_nothing_to_approve(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    """PostgreSQL: while another approver's transaction holds the account, an approval
    waits for it, then sees the account approved (409), rather than approving it again
    over the first and answering "approved" twice."""
    assert context.engine.dialect.name == "postgresql"
    root = staff.headers("admin", "root")
    made = client.post(
        "/api/staff",
        json={"username": "dana", "role": "privacy_officer", "password": "a long enough one"},
        headers=root,
    )
    dana = made.json()["id"]
    officer = staff.headers("privacy_officer", "pat")
    approve = f"/api/staff/{dana}/approve"
    with context.engine.connect() as first, first.begin():
        first.execute(sa.text("SELECT id FROM staff_users WHERE id = :id FOR UPDATE"), {"id": dana})
        second = Meanwhile(
            lambda: client.post(approve, json={"role": "privacy_officer"}, headers=officer)
        )
        first.execute(
            sa.text(
                "UPDATE staff_users SET approved_at = now(), requested_by_id = NULL,"
                " requested_at = NULL WHERE id = :id"
            ),
            {"id": dana},
        )
    assert second.waited  # for the first approver's transaction
    assert second.answer() == 409


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_administrators_disabling_each_other_at_once_leave_one(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    """PostgreSQL: while one administrator's transaction disables the other (holding the
    last-administrator check's lock), the other's disabling of the first waits for it,
    then finds itself the last administrator (409) instead of leaving nobody."""
    root, abe = staff.headers("admin", "root"), staff.headers("admin", "abe")
    root_id, abe_id = (staff_account(client, root, name)["id"] for name in ("root", "abe"))
    with context.engine.connect() as first, first.begin():
        first.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(LAST_ADMIN_LOCK)}
        )
        first.execute(
            sa.text("UPDATE staff_users SET disabled_at = now() WHERE id = :id"), {"id": abe_id}
        )
        second = Meanwhile(
            lambda: client.patch(f"/api/staff/{root_id}", json={"disabled": True}, headers=abe)
        )
    assert second.waited  # for the first administrator's check
    assert second.answer() == 409
    assert staff_account(client, root, "root")["disabled"] is False
