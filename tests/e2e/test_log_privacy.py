"""A full scenario with known personal values; none of them may reach any log line.

The server runs as an operator runs it, logging at DEBUG, and everything it prints is
scanned: numbers in every format, caller names, passwords, tokens, session cookies and
CSRF tokens, and the free text of rejected input.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from telephony.signature import sign
from tests.e2e.conftest import Server
from tests.support import CITY, TEST_AUTH_TOKEN, call_sid, switchboard

pytestmark = pytest.mark.slow

CALLER = "+13025550177"
CALLER_NAME = "WINIFRED QUASIMODO"
PASSWORD = "zebra-quantum-lighthouse-42"
ADMIN_PASSWORD = "admin-only-pass-phrase-77"
NEW_STAFF_PASSWORD = "another-secret-phrase-99"
SSN = "219-09-9999"
EMAIL = "winifred.q@example.net"
HOME = "4417 Brandywine Terrace"
REPLY = "the gate code is purple falcon"


@pytest.fixture
def server_env() -> dict[str, str]:
    # Texts go out at once (no quiet hours), through the in-process worker.
    return {"SWITCHBOARD_LOG_LEVEL": "DEBUG", "SWITCHBOARD_SMS_QUIET_HOURS": "03:00-03:01"}


def add_user(server: Server, name: str, role: str) -> dict[str, str]:
    added = switchboard(server.env, "users", "add", name, "--role", role)
    assert added.returncode == 0, added.stderr
    token = switchboard(server.env, "tokens", "issue", name, "--days", "1").stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def later_flows(server: Server) -> None:
    """Requests with contacts, an appointment and its text, a caller's reply, an access
    request with its export and letters, a hold on the person, a retention dry run."""
    agent = add_user(server, "abe", "agent")
    officer = add_user(server, "pia", "privacy_officer")
    admin = add_user(server, "ada", "admin")
    contact = {"name": CALLER_NAME.title(), "phone": CALLER, "email": EMAIL, "address": HOME}
    filed = httpx.post(
        server.url + "/api/requests",
        json={"service_code": "bulk-pickup", "address": "1 Market St", "contact": contact},
        headers=agent,
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    visit = datetime.now(UTC) + timedelta(days=2)
    booked = httpx.post(
        server.url + "/api/appointments",
        json={
            "request_id": request_id,
            "starts_at": visit.isoformat(),
            "ends_at": (visit + timedelta(hours=2)).isoformat(),
            "location": HOME,
            "phone": "(302) 555-0177",
            "language": "en",
            "consent": True,
        },
        headers=agent,
    )
    assert booked.status_code == 201, booked.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        outbox = httpx.get(server.url + "/api/messages/outbox", headers=agent).json()["items"]
        if any(text["state"] == "sent" for text in outbox):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the confirmation was never sent")
    reply = {
        "AccountSid": "AC" + "1" * 32,
        "MessageSid": "SM" + call_sid()[2:],
        "From": CALLER,
        "To": "+13025550100",
        "Body": f"{REPLY}, and my SSN is {SSN}",
    }
    assert post_webhook(server, "/twilio/sms", reply).status_code == 200
    recorded = httpx.post(
        server.url + "/api/privacy/requests",
        json={
            # The city's date, as the server checks it (the UTC date runs ahead in the evening).
            "received_on": datetime.now(CITY).date().isoformat(),
            "channel": "email",
            "kinds": ["access"],
            "identity_evidence": "Signature compared with the one on file",
            "requester": {"email": EMAIL, "phone": CALLER, "name": contact["name"]},
        },
        headers=officer,
    )
    assert recorded.status_code == 201, recorded.text
    privacy_id = recorded.json()["id"]
    for path in ("export", "export.html", "letters/amendment"):
        opened = httpx.get(
            f"{server.url}/api/privacy/requests/{privacy_id}/{path}", headers=officer
        )
        assert opened.status_code == 200 and contact["name"] in opened.text
    held = httpx.post(
        server.url + "/api/holds",
        json={"target_type": "person", "person": {"email": EMAIL}, "reason": "Claim 77"},
        headers=officer,
    )
    assert held.status_code == 201, held.text
    dry = httpx.post(server.url + "/api/retention/run", json={}, headers=admin)
    assert dry.status_code == 200


def post_webhook(server: Server, path: str, params: dict[str, str]) -> httpx.Response:
    url = server.url + path
    return httpx.post(
        url, data=params, headers={"X-Twilio-Signature": sign(TEST_AUTH_TOKEN, url, params)}
    )


def test_no_personal_value_reaches_the_logs(server: Server) -> None:
    env = server.env
    assert (
        switchboard(
            env,
            "users",
            "add",
            "olga",
            "--role",
            "agent",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).returncode
        == 0
    )
    assert (
        switchboard(
            env,
            "users",
            "add",
            "root",
            "--role",
            "admin",
            "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n",
        ).returncode
        == 0
    )
    sid, child = call_sid(), call_sid()
    base = {
        "AccountSid": "AC" + "1" * 32,
        "CallSid": sid,
        "From": CALLER,
        "To": "+13025550100",
        "Direction": "inbound",
    }
    assert (
        post_webhook(
            server, "/twilio/voice", {**base, "CallStatus": "ringing", "CallerName": CALLER_NAME}
        ).status_code
        == 200
    )
    assert (
        post_webhook(
            server,
            "/twilio/voice/gather?lang=en&attempt=1",
            {**base, "CallStatus": "in-progress", "Digits": "2"},
        ).status_code
        == 200
    )
    leg = {**base, "CallSid": child, "ParentCallSid": sid, "Direction": "outbound-dial"}
    for sequence, status in enumerate(("initiated", "ringing", "in-progress", "completed")):
        post_webhook(
            server,
            "/twilio/voice/status",
            {**leg, "CallStatus": status, "SequenceNumber": str(sequence), "CallDuration": "31"},
        )
    forged = httpx.post(
        server.url + "/twilio/voice",
        data={**base, "CallStatus": "ringing"},
        headers={"X-Twilio-Signature": "forged"},
    )
    assert forged.status_code == 403

    with httpx.Client(base_url=server.url) as console:
        assert (
            console.post(
                "/api/session", json={"username": "olga", "password": "wrong " + PASSWORD}
            ).status_code
            == 401
        )
        signed = console.post("/api/session", json={"username": "olga", "password": PASSWORD})
        assert signed.status_code == 201
        csrf = signed.json()["csrf_token"]
        cookie = console.cookies["sb_session"]
        found = console.post(
            "/api/calls/search", json={"phone": "(302) 555-0177"}, headers={"X-CSRF-Token": csrf}
        )
        assert [item["call_sid"] for item in found.json()["items"]] == [child, sid]
        refused = console.post(
            "/api/calls/search", json={"phone": f"my ssn {SSN}"}, headers={"X-CSRF-Token": csrf}
        )
        assert refused.status_code == 422
        console.post("/api/calls/search", json={"phone": "302-555-0177"})  # no CSRF: refused
        console.delete("/api/session", headers={"X-CSRF-Token": csrf})

    token = switchboard(env, "tokens", "issue", "root", "--days", "1").stdout.strip()
    admin = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        server.url + "/api/staff",
        json={"username": "newbie", "role": "agent", "password": NEW_STAFF_PASSWORD},
        headers=admin,
    )
    assert created.status_code == 201
    assert (
        httpx.post(
            server.url + "/api/calls/search", json={"phone": CALLER}, headers=admin
        ).status_code
        == 403
    )
    httpx.get(server.url + "/api/calls/" + sid, headers={"Authorization": "Bearer sb_" + "x" * 43})

    later_flows(server)

    logs = server.log.read_text()
    assert '"route": "/api/calls/search"' in logs  # the log is there, and it is JSON
    digits = CALLER.removeprefix("+1")
    secrets_seen = {
        "caller number": re.compile(rf"{digits[:3]}\D{{0,2}}{digits[3:6]}\D?{digits[6:]}"),
        "caller name": re.compile(CALLER_NAME, re.IGNORECASE),
        "password": re.compile(re.escape(PASSWORD)),
        "admin password": re.compile(re.escape(ADMIN_PASSWORD)),
        "new staff password": re.compile(re.escape(NEW_STAFF_PASSWORD)),
        "bearer token": re.compile(re.escape(token)),
        "session cookie": re.compile(re.escape(cookie)),
        "csrf token": re.compile(re.escape(csrf)),
        "ssn": re.compile(SSN.replace("-", r"\D?")),
        "email": re.compile(re.escape(EMAIL), re.IGNORECASE),
        "home address": re.compile(re.escape(HOME), re.IGNORECASE),
        "text reply": re.compile(re.escape(REPLY), re.IGNORECASE),
    }
    leaked = [name for name, pattern in secrets_seen.items() if pattern.search(logs)]
    assert leaked == []
