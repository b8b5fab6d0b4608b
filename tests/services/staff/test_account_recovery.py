"""Administrators help staff back in: a temporary password that must be replaced at the
next sign-in, lifting a lockout, each person's last sign-in, and their API tokens."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.roles import Role
from services.staff import service as accounts
from services.staff.models import StaffUser
from tests.support import PASSWORD, StaffFactory, add_user, audit_entries, staff_account


def sign_in(client: TestClient, name: str, password: str, **extra: str) -> dict[str, object]:
    answer = client.post("/api/session", json={"username": name, "password": password, **extra})
    return {"status": answer.status_code, **answer.json()}


def test_a_temporary_password_is_shown_once_and_must_be_replaced_at_sign_in(
    client: TestClient,
    staff: StaffFactory,
    context: AppContext,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = staff.headers("admin", "root")
    writer = add_user(context, "kim", Role.KNOWLEDGE_EDITOR)  # no second person needed
    assert staff_account(client, admin, "kim")["last_sign_in_at"] is None
    with context.db.begin() as session:
        accounts.issue_token(session, username="kim", days=5, now=clock.now())
    caplog.set_level(logging.DEBUG)

    reset = client.post(f"/api/staff/{writer}/temporary-password", headers=admin)
    assert reset.status_code == 200, reset.text
    assert reset.headers["cache-control"] == "no-store"
    given = reset.json()
    temporary = given["temporary_password"]
    assert len(temporary) >= 16 and given["tokens_revoked"] == 1
    assert given["awaits_approval"] is False
    # Never kept in clear: not in the database, the audit trail or the logs.
    with context.db() as session:
        stored = session.scalar(sa.select(StaffUser.password_hash).where(StaffUser.id == writer))
    assert temporary not in (stored or "")
    entry = audit_entries(context, AuditEntry.action == "staff.password_reset")[-1]
    assert temporary not in json.dumps(entry.detail)
    assert entry.detail["temporary"] is True
    assert temporary not in caplog.text
    assert staff_account(client, admin, "kim")["temporary_password_until"] is not None

    # The old password no longer works; the temporary one only asks for a new one.
    assert sign_in(client, "kim", PASSWORD)["status"] == 401
    asked = sign_in(client, "kim", temporary)
    assert asked["status"] == 401
    assert asked["errors"] == [{"field": "new_password", "message": asked["detail"]}]
    same = sign_in(client, "kim", temporary, new_password=temporary)
    assert same["status"] == 401 and "other than" in str(same["detail"])
    short = sign_in(client, "kim", temporary, new_password="short")
    assert short["status"] == 401 and "12 characters" in str(short["detail"])
    chosen = sign_in(client, "kim", temporary, new_password="my very own passphrase")
    assert chosen["status"] == 201, chosen
    replaced = audit_entries(context, AuditEntry.action == "auth.sign_in")[-1]
    assert replaced.detail["temporary_password_replaced"] is True
    assert "my very own" not in json.dumps(replaced.detail)

    # It worked once: now only the new one does.
    assert sign_in(client, "kim", temporary)["status"] == 401
    assert sign_in(client, "kim", "my very own passphrase")["status"] == 201
    seen = staff_account(client, admin, "kim")
    assert seen["temporary_password_until"] is None
    assert seen["last_sign_in_at"] is not None

    # A temporary password not used in time expires.
    temporary = client.post(f"/api/staff/{writer}/temporary-password", headers=admin).json()[
        "temporary_password"
    ]
    clock.advance(timedelta(hours=73))
    late = sign_in(client, "kim", temporary, new_password="another own passphrase")
    assert late["status"] == 401 and "expired" in str(late["detail"])


def test_a_reset_for_a_role_that_reads_personal_data_waits_for_a_second_person(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    agent = add_user(context, "ana")
    given = client.post(f"/api/staff/{agent}/temporary-password", headers=admin).json()
    assert given["awaits_approval"] is True
    refused = sign_in(client, "ana", given["temporary_password"], new_password="x" * 14)
    assert refused["status"] == 401  # not in force until approved
    officer = staff.headers("privacy_officer", "pia")
    approved = client.post(f"/api/staff/{agent}/approve", json={"role": "agent"}, headers=officer)
    assert approved.status_code == 200, approved.text
    chosen = sign_in(client, "ana", given["temporary_password"], new_password="x" * 14)
    assert chosen["status"] == 201


def test_an_administrator_unlocks_a_locked_account(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    agent = add_user(context, "ana")
    for _ in range(5):
        assert sign_in(client, "ana", "guess guess guess")["status"] == 401
    assert sign_in(client, "ana", PASSWORD)["status"] == 429
    locked = staff_account(client, admin, "ana")
    assert locked["locked"] is True and locked["locked_until"] is not None

    unlocked = client.post(f"/api/staff/{agent}/unlock", headers=admin)
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    assert sign_in(client, "ana", PASSWORD)["status"] == 201
    entry = audit_entries(context, AuditEntry.action == "staff.unlock")[-1]
    assert (entry.object_id, entry.detail["was_locked"]) == (str(agent), True)

    assert client.post("/api/staff/9999/unlock", headers=admin).status_code == 404
    assert client.post("/api/staff/9999/temporary-password", headers=admin).status_code == 404
    agent_headers = staff.headers("agent", "al")
    assert client.post(f"/api/staff/{agent}/unlock", headers=agent_headers).status_code == 403


def test_an_administrator_lists_and_revokes_a_persons_tokens(
    client: TestClient, staff: StaffFactory, context: AppContext, clock: ManualClock
) -> None:
    admin = staff.headers("admin", "root")
    agent = add_user(context, "ana")
    with context.db.begin() as session:
        token, row = accounts.issue_token(session, username="ana", days=5, now=clock.now())
    listed = client.get(f"/api/staff/{agent}/tokens", headers=admin).json()["items"]
    assert [(item["id"], item["revoked_at"]) for item in listed] == [(row.id, None)]
    works = client.get("/api/me/presence", headers={"Authorization": f"Bearer {token}"})
    assert works.status_code == 200
    assert client.delete(f"/api/tokens/{row.id}", headers=admin).status_code == 204
    gone = client.get("/api/me/presence", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    listed = client.get(f"/api/staff/{agent}/tokens", headers=admin).json()["items"]
    assert listed[0]["revoked_at"] is not None
