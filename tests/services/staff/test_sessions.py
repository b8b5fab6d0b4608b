"""Console sign-in: cookies, CSRF, idle and absolute timeouts, lockout, second factor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.roles import Role
from tests.support import PASSWORD, PUBLIC_URL, add_user, audit_entries, served


def sign_in(client: TestClient, name: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/api/session", json={"username": name, "password": password, **extra})


def search_calls(client: TestClient, csrf: str | None) -> Any:
    """A call search (a POST, so it needs the session's CSRF token), sent with ``csrf``
    as that token, or with none."""
    headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
    return client.post("/api/calls/search", json={"phone": "2025550142"}, headers=headers)


def last_audit(context: AppContext, action: str) -> AuditEntry:
    return audit_entries(context, AuditEntry.action == action)[-1]


def test_sign_in_sets_a_strict_http_only_secure_cookie(
    client: TestClient, context: AppContext
) -> None:
    add_user(context, "ana")
    response = sign_in(client, "ana")
    assert response.status_code == 201
    cookie = response.headers["set-cookie"]
    for flag in ("sb_session=", "HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower()
    body = response.json()
    assert body["username"] == "ana" and body["role"] == "agent"
    assert body["idle_timeout_seconds"] == 1800
    assert body["csrf_token"]
    assert last_audit(context, "auth.sign_in").outcome == "ok"


def test_a_session_works_for_reads_and_needs_its_csrf_token_for_writes(
    client: TestClient, context: AppContext
) -> None:
    add_user(context, "ana")
    csrf = sign_in(client, "ana").json()["csrf_token"]
    assert client.get("/api/session").json()["csrf_token"] == csrf
    no_csrf = search_calls(client, None)
    assert no_csrf.status_code == 403
    assert last_audit(context, "access.denied").detail["reason"] == "csrf"
    wrong = search_calls(client, "x" * 32)
    assert wrong.status_code == 403
    ok = search_calls(client, csrf)
    assert ok.status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(
    client: TestClient, context: AppContext
) -> None:
    add_user(context, "ana")
    wrong = sign_in(client, "ana", "not the password")
    unknown = sign_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Wrong username or password."
    assert "set-cookie" not in wrong.headers
    failure = last_audit(context, "auth.sign_in")
    assert failure.outcome == "failed" and failure.detail["reason"] == "credentials"
    assert "not the password" not in repr(failure.detail)


def test_repeated_failures_lock_the_account_for_a_while(
    client: TestClient, context: AppContext, clock: ManualClock
) -> None:
    add_user(context, "ana")
    for _ in range(5):
        assert sign_in(client, "ana", "guess guess guess").status_code == 401
    locked = sign_in(client, "ana")  # even the right password
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 800
    assert "locked" in locked.json()["detail"] and "15 minutes" in locked.json()["detail"]
    assert last_audit(context, "auth.sign_in").detail["reason"] == "locked"
    clock.advance(timedelta(minutes=16))
    assert sign_in(client, "ana").status_code == 201


def test_a_network_guessing_many_accounts_is_throttled(
    context_with: Callable[..., AppContext],
) -> None:
    context = context_with(sign_in_network_max_failures=8)
    add_user(context, "ana")
    with served(context) as client:
        for number in range(8):
            assert sign_in(client, f"user{number}", "guess guess").status_code == 401
        throttled = sign_in(client, "ana")
        assert throttled.status_code == 429
        assert "from your network" in throttled.json()["detail"]


def test_idle_and_absolute_timeouts_end_a_session(
    client: TestClient, context: AppContext, clock: ManualClock
) -> None:
    add_user(context, "ana")
    sign_in(client, "ana")
    clock.advance(timedelta(minutes=29))
    assert client.get("/api/session").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert client.get("/api/session").status_code == 401

    sign_in(client, "ana")
    for _ in range(36):  # busy all day, never idle
        clock.advance(timedelta(minutes=20))
        if client.get("/api/session").status_code != 200:
            break
    assert client.get("/api/session").status_code == 401
    with context.db() as session:
        reasons = session.scalars(
            sa.text("SELECT end_reason FROM staff_sessions ORDER BY id")
        ).all()
    assert reasons == ["idle", "lifetime"]


def test_sign_out_ends_the_session_and_clears_the_cookie(
    client: TestClient, context: AppContext
) -> None:
    add_user(context, "ana")
    csrf = sign_in(client, "ana").json()["csrf_token"]
    cookie = client.cookies.get("sb_session")
    assert client.delete("/api/session").status_code == 403  # unsafe, so CSRF is needed
    response = client.delete("/api/session", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert (
        'sb_session=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )
    client.cookies.set("sb_session", cookie or "")
    assert client.get("/api/session").status_code == 401
    assert last_audit(context, "auth.sign_out").actor_name == "ana"


@pytest.mark.parametrize("change", [{"disabled": True}, {"role": "supervisor"}])
def test_disabling_or_changing_role_ends_every_session(
    change: dict[str, Any], client: TestClient, context: AppContext
) -> None:
    add_user(context, "root", Role.ADMIN)
    add_user(context, "ana")
    with context.db() as session:
        ana_id = session.scalar(sa.text("SELECT id FROM staff_users WHERE username = 'ana'"))
    with TestClient(client.app, base_url=PUBLIC_URL) as ana:
        sign_in(ana, "ana")
        assert ana.get("/api/session").status_code == 200
        csrf = sign_in(client, "root").json()["csrf_token"]
        changed = client.patch(f"/api/staff/{ana_id}", json=change, headers={"X-CSRF-Token": csrf})
        assert changed.status_code == 200
        if "role" in change:  # a new role is in force once a second person approves it
            assert ana.get("/api/session").status_code == 200
            add_user(context, "pat", Role.PRIVACY_OFFICER)
            with TestClient(client.app, base_url=PUBLIC_URL) as pat:
                pat_csrf = sign_in(pat, "pat").json()["csrf_token"]
                approved = pat.post(
                    f"/api/staff/{ana_id}/approve",
                    json=change,
                    headers={"X-CSRF-Token": pat_csrf},
                )
                assert approved.status_code == 200, approved.text
        assert ana.get("/api/session").status_code == 401


def test_second_factor_enrolment_and_use(
    client: TestClient, context: AppContext, clock: ManualClock
) -> None:
    add_user(context, "ana")
    csrf = sign_in(client, "ana").json()["csrf_token"]
    uri = client.post("/api/session/totp", headers={"X-CSRF-Token": csrf}).json()[
        "provisioning_uri"
    ]
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    wrong = client.post(
        "/api/session/totp/confirm", json={"code": "000000"}, headers={"X-CSRF-Token": csrf}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    assert last_audit(context, "auth.totp_enrolment").outcome == "invalid"
    confirmed = client.post(
        "/api/session/totp/confirm",
        json={"code": totp.at(clock.now())},
        headers={"X-CSRF-Token": csrf},
    )
    assert confirmed.status_code == 204
    assert last_audit(context, "auth.totp_enrolment").outcome == "confirmed"

    clock.advance(timedelta(minutes=1))
    client.cookies.clear()
    needs_code = sign_in(client, "ana")
    assert needs_code.status_code == 401
    assert needs_code.json()["errors"][0]["field"] == "totp_code"
    code = totp.at(clock.now())
    ok = sign_in(client, "ana", totp_code=code)
    assert ok.status_code == 201 and ok.json()["second_factor"] == "done"
    client.cookies.clear()
    assert sign_in(client, "ana", totp_code=code).status_code == 401  # no replay


def test_required_second_factor_holds_a_supervisor_until_enrolled(
    context_with: Callable[..., AppContext], clock: ManualClock
) -> None:
    context = context_with(require_second_factor=True)
    add_user(context, "sam", Role.SUPERVISOR)
    add_user(context, "ana", Role.AGENT)
    with served(context) as client:
        assert sign_in(client, "ana").json()["second_factor"] == "not_used"  # agents are exempt
        client.cookies.clear()
        body = sign_in(client, "sam").json()
        assert body["second_factor"] == "enrolment_required"
        csrf = body["csrf_token"]
        held = search_calls(client, csrf)
        assert held.status_code == 403 and "second factor" in held.json()["detail"]
        uri = client.post("/api/session/totp", headers={"X-CSRF-Token": csrf}).json()[
            "provisioning_uri"
        ]
        code = pyotp.parse_uri(uri).at(clock.now())
        client.post(
            "/api/session/totp/confirm", json={"code": code}, headers={"X-CSRF-Token": csrf}
        )
        allowed = search_calls(client, csrf)
        assert allowed.status_code == 200


def test_sign_in_attempts_are_rate_limited_per_network(
    client: TestClient, context: AppContext
) -> None:
    statuses = [sign_in(client, "x", "y").status_code for _ in range(31)]
    assert statuses[-1] == 429
    assert "try again in" in sign_in(client, "x", "y").json()["detail"]


def test_cookie_is_not_secure_on_plain_http(context_with: Callable[..., AppContext]) -> None:
    context = context_with(public_url="http://127.0.0.1:8000")
    add_user(context, "ana")
    with served(context, base_url="http://testserver") as client:
        assert "secure" not in sign_in(client, "ana").headers["set-cookie"].lower()


def test_an_unknown_name_locks_just_as_a_real_account_does(
    client: TestClient, context: AppContext, clock: ManualClock
) -> None:
    add_user(context, "ana")
    answers: dict[str, list[tuple[int, str, str | None]]] = {}
    for name in ("ana", "nobody"):
        tries = [sign_in(client, name, "guess guess guess") for _ in range(6)]
        answers[name] = [
            (t.status_code, t.json()["detail"], t.headers.get("retry-after")) for t in tries
        ]
    assert answers["ana"] == answers["nobody"]
    assert [status for status, _, _ in answers["nobody"]] == [401] * 5 + [429]
    clock.advance(timedelta(minutes=16))
    assert sign_in(client, "nobody", "guess guess guess").status_code == 401
    assert sign_in(client, "ana").status_code == 201


def test_replacing_a_second_factor_needs_a_current_code_and_keeps_the_old_until_confirmed(
    client: TestClient, context: AppContext, clock: ManualClock
) -> None:
    add_user(context, "ana")
    csrf = {"X-CSRF-Token": sign_in(client, "ana").json()["csrf_token"]}
    old = pyotp.parse_uri(client.post("/api/session/totp", headers=csrf).json()["provisioning_uri"])
    assert isinstance(old, pyotp.TOTP)
    confirm = "/api/session/totp/confirm"
    assert client.post(confirm, json={"code": old.at(clock.now())}, headers=csrf).status_code == 204

    # A session alone (stolen, or left open) cannot swap the factor for one of its own.
    clock.advance(timedelta(minutes=1))
    taken = client.post("/api/session/totp", headers=csrf)
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "current_code"
    assert last_audit(context, "auth.totp_enrolment").outcome == "invalid"
    wrong = client.post("/api/session/totp", json={"current_code": "000000"}, headers=csrf)
    assert wrong.status_code == 422

    # With a current code a new one is set up; until it is confirmed the old one holds.
    begun = client.post(
        "/api/session/totp", json={"current_code": old.at(clock.now())}, headers=csrf
    )
    assert begun.status_code == 200
    new = pyotp.parse_uri(begun.json()["provisioning_uri"])
    assert isinstance(new, pyotp.TOTP) and new.secret != old.secret
    clock.advance(timedelta(minutes=1))
    other = TestClient(client.app, base_url=PUBLIC_URL)
    assert sign_in(other, "ana", totp_code=new.at(clock.now())).status_code == 401
    other.cookies.clear()
    assert sign_in(other, "ana", totp_code=old.at(clock.now())).status_code == 201
    clock.advance(timedelta(minutes=1))
    assert client.post(confirm, json={"code": new.at(clock.now())}, headers=csrf).status_code == 204
    clock.advance(timedelta(minutes=1))
    other.cookies.clear()
    assert sign_in(other, "ana", totp_code=old.at(clock.now())).status_code == 401
    other.cookies.clear()
    assert sign_in(other, "ana", totp_code=new.at(clock.now())).status_code == 201
