"""Callbacks against the fake Twilio REST server: the agent's destination rings first,
then the caller's number on record with the 311 number as caller ID; logged as an
outbound call and a contact, audited, and refused for anonymous requests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.contacts.callbacks import CALLBACK_RINGING_AT_MOST
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.settings import Settings
from tests.fakes.twilio_api import FakeTwilio
from tests.services.contacts.test_agents_and_contacts import CALLER, leg_event, make_agent
from tests.support import (
    StaffFactory,
    TwilioClient,
    audit_entries,
    call_sid,
    filed_request,
    make_settings,
)

CITY_NUMBER = "+13025550100"  # TWILIO_FROM_NUMBER in the tests' settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Settings:
    return make_settings(database_url, tmp_path / "var", twilio_api_base_url=fake_twilio.url)


def file_request(client: TestClient, agent: dict[str, str], **extra: object) -> str:
    body = {"service_code": "pothole", "address": "5 Elm St", **extra}
    public_id: str = filed_request(client, agent, **body)["id"]
    return public_id


@pytest.fixture
def admin(staff: StaffFactory) -> dict[str, str]:
    return staff.headers("admin", "root")


@pytest.fixture
def ana(client: TestClient, staff: StaffFactory, admin: dict[str, str]) -> dict[str, str]:
    """An agent whose calls ring at client:ana."""
    return make_agent(client, staff, admin, "ana", "client:ana")


def test_a_callback_rings_the_agent_then_bridges_the_caller_and_is_logged(
    client: TestClient,
    twilio: TwilioClient,
    ana: dict[str, str],
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    context: AppContext,
) -> None:
    request_id = file_request(client, ana, contact={"phone": "(302) 555-0161"})

    placed = client.post("/api/callbacks", json={"request_id": request_id}, headers=ana)
    assert placed.status_code == 201, placed.text
    out = placed.json()
    [call] = fake_twilio.state["calls"]
    form = call["form"]
    assert form["To"] == "client:ana" and form["From"] == CITY_NUMBER
    assert f'callerId="{CITY_NUMBER}"' in form["Twiml"] and CALLER in form["Twiml"]
    assert CALLER not in form["StatusCallback"] and "5550161" not in form["StatusCallback"]
    assert all("5550161" not in recorded.path for recorded in fake_twilio.requests)
    assert out["call_sid"] == call["sid"]

    logged = client.get(f"/api/calls/{out['call_sid']}", headers=ana).json()
    assert logged["direction"] == "outbound-api" and logged["from_number"] == CITY_NUMBER
    contact = client.get(f"/api/contacts/{out['contact_id']}", headers=ana).json()
    assert contact["channel"] == "phone" and contact["direction"] == "outbound"
    assert contact["agent"] == "ana" and contact["request_ids"] == [request_id]
    entry = audit_entries(context, AuditEntry.action == "callback.place")[-1]
    assert entry.outcome == "ok" and entry.object_id == request_id
    assert "5550161" not in str(entry.detail)

    # Twilio reports the agent's leg answered, then the caller's leg: both are logged,
    # and a search by the caller's number finds the outbound call.
    leg_event(twilio, out["call_sid"], call_sid(), "ringing", CALLER, clock.now(), 1)
    answered = twilio.call_params(
        out["call_sid"], "in-progress", Direction="outbound-api", From=CITY_NUMBER, To="client:ana"
    )
    assert twilio.post("/twilio/voice/status", answered).status_code == 204
    assert client.get("/api/me/presence", headers=ana).json()["state"] == "busy"
    found = client.post("/api/calls/search", json={"phone": CALLER}, headers=ana).json()
    assert [c["parent_call_sid"] for c in found["items"]] == [out["call_sid"]]


def test_callbacks_are_refused_without_a_way_to_reach_the_caller(
    client: TestClient,
    staff: StaffFactory,
    fake_twilio: FakeTwilio,
    agent: dict[str, str],
    context: AppContext,
) -> None:
    admin = staff.headers("admin", "root")
    ana = make_agent(client, staff, admin, "bea", "client:bea")
    anonymous = file_request(client, ana, anonymous=True)
    refused = client.post("/api/callbacks", json={"request_id": anonymous}, headers=ana)
    assert refused.status_code == 409
    no_number = file_request(client, ana, contact={"email": "pat@example.org"})
    assert (
        client.post("/api/callbacks", json={"request_id": no_number}, headers=ana).status_code
        == 422
    )
    # An agent with nowhere for the call to ring first.
    with_phone = file_request(client, ana, contact={"phone": CALLER})
    assert (
        client.post("/api/callbacks", json={"request_id": with_phone}, headers=agent).status_code
        == 422
    )
    # A typed number is not accepted at all.
    typed = client.post(
        "/api/callbacks", json={"request_id": with_phone, "phone": CALLER}, headers=ana
    )
    assert typed.status_code == 422
    assert "calls" not in fake_twilio.state
    # Twilio failing: 502, nothing logged, audited.
    fake_twilio.state["calls_next"] = ["500"]
    failed = client.post("/api/callbacks", json={"request_id": with_phone}, headers=ana)
    assert failed.status_code == 502 and CALLER not in failed.text
    outcomes = [e.outcome for e in audit_entries(context, AuditEntry.action == "callback.place")]
    assert outcomes == ["conflict", "invalid", "invalid", "failed"]
    assert (
        client.post("/api/contacts/search", json={"agent": "bea"}, headers=ana).json()["items"]
        == []
    )


def test_a_callback_after_an_inbound_contact_calls_the_number_the_caller_called_from(
    client: TestClient,
    twilio: TwilioClient,
    staff: StaffFactory,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    admin = staff.headers("admin", "root")
    ana = make_agent(client, staff, admin, "ana", "+13025550191")
    sid = twilio.ring(From=CALLER)
    twilio.press(sid, "1", From=CALLER)
    leg_event(twilio, sid, call_sid(), "in-progress", "+13025550191", clock.now(), 2)
    [contact] = client.post("/api/contacts/search", json={"call_sid": sid}, headers=ana).json()[
        "items"
    ]
    placed = client.post("/api/callbacks", json={"contact_id": contact["id"]}, headers=ana)
    assert placed.status_code == 201, placed.text
    form = fake_twilio.state["calls"][0]["form"]
    assert form["To"] == "+13025550191" and f">{CALLER}</Number>" in form["Twiml"]
    withheld = twilio.ring(From="anonymous")
    twilio.press(withheld, "1", From="anonymous")
    leg_event(twilio, withheld, call_sid(), "in-progress", "+13025550191", clock.now(), 2)
    found = client.post("/api/contacts/search", json={"call_sid": withheld}, headers=ana).json()
    refused = client.post(
        "/api/callbacks", json={"contact_id": found["items"][0]["id"]}, headers=ana
    )
    assert refused.status_code == 409


def test_a_callback_placed_again_while_the_first_rings_is_refused(
    client: TestClient,
    twilio: TwilioClient,
    ana: dict[str, str],
    admin: dict[str, str],
    staff: StaffFactory,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    context: AppContext,
) -> None:
    """A second Call back (a client that did not hear the answer, an agent who clicked
    again) while the first still rings would ring the agent and then the caller twice:
    refused, naming the first; once it has ended, the agent may call back again."""
    request_id = file_request(client, ana, contact={"phone": "(302) 555-0161"})
    first = client.post("/api/callbacks", json={"request_id": request_id}, headers=ana)
    assert first.status_code == 201, first.text
    again = client.post("/api/callbacks", json={"request_id": request_id}, headers=ana)
    assert again.status_code == 409 and "still" in again.json()["detail"]
    assert "5550161" not in again.text
    assert len(fake_twilio.state["calls"]) == 1
    outcomes = [e.outcome for e in audit_entries(context, AuditEntry.action == "callback.place")]
    assert outcomes == ["ok", "conflict"]

    # Another agent's callback is theirs: it does not stop ana's, nor hers ana's.
    bo = make_agent(client, staff, admin, "bo", "client:bo")
    assert (
        client.post("/api/callbacks", json={"request_id": request_id}, headers=bo).status_code
        == 201
    )

    sid = first.json()["call_sid"]
    ended = twilio.call_params(
        sid, "no-answer", Direction="outbound-api", From=CITY_NUMBER, To="client:ana"
    )
    assert twilio.post("/twilio/voice/status", ended).status_code == 204
    clock.advance(timedelta(seconds=30))
    later = client.post("/api/callbacks", json={"request_id": request_id}, headers=ana)
    assert later.status_code == 201, later.text
    # A callback whose end never reached the city stops nobody for long.
    clock.advance(CALLBACK_RINGING_AT_MOST + timedelta(seconds=1))
    assert (
        client.post("/api/callbacks", json={"request_id": request_id}, headers=ana).status_code
        == 201
    )
