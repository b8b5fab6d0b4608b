"""The call taker's workspace reads, through the API: the caller on a call with what the
city has from their number (newest first, withheld said plainly), possible duplicates
before filing, and an earlier request's contact reused for a new one. Every read is
audited; none names a number."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.support import TwilioClient, audit_entry, filed_request

CALLER = "+13025550161"


def text_from(twilio: TwilioClient, number: str, body: str) -> None:
    response = twilio.text(number, body)
    assert response.status_code == 200, response.text


def test_the_caller_on_a_call_with_their_history_newest_first(
    client: TestClient,
    twilio: TwilioClient,
    agent: dict[str, str],
    clock: ManualClock,
    context: AppContext,
) -> None:
    def file(**body: object) -> str:
        return str(filed_request(client, agent, **body)["id"])

    older = file(service_code="pothole", address="12 Elm St", contact={"phone": "302-555-0161"})
    clock.advance(timedelta(hours=1))
    newer = file(service_code="streetlight", contact={"phone": "(302) 555-0161", "name": "Lee"})
    file(service_code="pothole", contact={"phone": "(302) 555-0199"})  # somebody else
    text_from(twilio, "(302) 555-0161", "Is the crew still coming?")
    clock.advance(timedelta(minutes=5))

    sid = twilio.ring(From=CALLER)
    caller = client.get(f"/api/contacts/caller/{sid}", headers=agent)
    assert caller.status_code == 200, caller.text
    data = caller.json()
    assert (data["withheld"], data["number"]) == (False, CALLER)
    assert data["number_for_people"] == "(302) 555-0161"
    assert [item["id"] for item in data["requests"]] == [newer, older]
    assert [item["service_name"] for item in data["requests"]] == ["Street light out", "Pothole"]
    assert [item["channel"] for item in data["contacts"]] == ["sms"]
    assert [(text["direction"], text["body"]) for text in data["texts"]] == [
        ("from_caller", "Is the crew still coming?")
    ]
    assert data["appointments"] == [] and data["contact"] is None
    entry = audit_entry(context, AuditEntry.action == "call.caller")
    assert entry.object_id == sid and entry.outcome == "ok"
    assert entry.detail["requests"] == 2 and entry.detail["texts"] == 1
    assert "555" not in str(entry.detail)

    withheld = twilio.ring(From="anonymous")
    hidden = client.get(f"/api/contacts/caller/{withheld}", headers=agent).json()
    assert hidden["withheld"] is True and hidden["number"] is None
    assert hidden["number_for_people"] is None and hidden["requests"] == []

    missing = client.get(f"/api/contacts/caller/CA{'0' * 32}", headers=agent)
    assert missing.status_code == 404


def test_possible_duplicates_before_filing_and_an_earlier_contact_reused(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    first = filed_request(
        client,
        agent,
        service_code="pothole",
        address="12 North Oak Street",
        contact={"name": "Lee Chan", "phone": "302-555-0161", "email": "lee@example.org"},
    )["id"]

    same = client.post(
        "/api/requests/possible-duplicates",
        json={"service_code": "pothole", "address": "12 n oak st"},
        headers=agent,
    )
    assert same.status_code == 200, same.text
    [found] = same.json()["items"]
    assert (found["id"], found["service_name"]) == (first, "Pothole")
    other = client.post(
        "/api/requests/possible-duplicates",
        json={"service_code": "streetlight", "address": "12 n oak st"},
        headers=agent,
    )
    assert other.json()["items"] == []

    reused = client.get(f"/api/requests/{first}/contact", headers=agent)
    assert reused.status_code == 200, reused.text
    assert reused.json() == {
        "name": "Lee Chan",
        "phone": "+13025550161",
        "email": "lee@example.org",
        "address": None,
    }
    entry = audit_entry(context, AuditEntry.action == "request.contact_reuse")
    assert entry.object_id == first and entry.detail["fields"] == ["email", "name", "phone"]

    anonymous = client.post(
        "/api/requests", json={"service_code": "pothole", "anonymous": True}, headers=agent
    ).json()["id"]
    refused = client.get(f"/api/requests/{anonymous}/contact", headers=agent)
    assert refused.status_code == 409
