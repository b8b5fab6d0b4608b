"""A caller's texts as one conversation per number: the city's texts out and the
caller's replies in, in order, with the number's visits; a reply goes to the number
the caller texted from, with no link, and never after STOP."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.services.appointments.test_appointments import book, new_request, reply
from tests.support import StaffFactory, TwilioClient, audit_entries


def test_a_conversation_in_order_with_a_reply(
    twilio: TwilioClient, agent: dict[str, str], context: AppContext, clock: ManualClock
) -> None:
    client: TestClient = twilio.client
    request_id = new_request(client, agent)
    booked = book(client, agent, request_id)
    assert booked.status_code == 201, booked.text
    clock.advance(timedelta(minutes=2))
    assert reply(twilio, "Can the crew come after 10?").status_code == 200
    assert reply(twilio, "Someone else", sender="+13025550188").status_code == 200
    inbound = client.get("/api/messages/inbound", headers=agent).json()
    mine = next(text for text in inbound if text["sender"] == "+13025550123")

    conversation = client.get(
        f"/api/messages/inbound/{mine['id']}/conversation", headers=agent
    ).json()
    assert conversation["number"] == "+13025550123"
    directions = [(entry["direction"], entry["kind"]) for entry in conversation["items"]]
    assert directions[0] == ("out", "confirmation")
    assert ("in", None) in directions
    assert all(entry["body"] != "Someone else" for entry in conversation["items"])
    assert conversation["appointments"][0]["id"] == booked.json()["id"]
    assert conversation["appointments"][0]["request_id"] == request_id
    assert request_id in conversation["requests"]

    linked = client.post(
        f"/api/messages/inbound/{mine['id']}/reply",
        json={"body": "See www.example.com for times"},
        headers=agent,
    )
    assert linked.status_code == 422 and linked.json()["errors"][0]["field"] == "body"
    clock.advance(timedelta(minutes=2))
    sent = client.post(
        f"/api/messages/inbound/{mine['id']}/reply",
        json={"body": "Yes: the crew comes between 10 and 11."},
        headers=agent,
    )
    assert sent.status_code == 201, sent.text
    # In order of time: the caller's text, then the reply; the reminder, due later, last.
    order = [(entry["direction"], entry["kind"]) for entry in sent.json()["items"]]
    assert order == [
        ("out", "confirmation"),
        ("in", None),
        ("out", "reply"),
        ("out", "reminder"),
    ]
    answer = next(entry for entry in sent.json()["items"] if entry["kind"] == "reply")
    assert answer["body"] == "Yes: the crew comes between 10 and 11."

    assert reply(twilio, "STOP").status_code == 200
    refused = client.post(
        f"/api/messages/inbound/{mine['id']}/reply", json={"body": "Hello"}, headers=agent
    )
    assert refused.status_code == 409 and "STOP" in refused.json()["detail"]

    entries = audit_entries(context, AuditEntry.action == "messages.reply")
    assert [entry.outcome for entry in entries][-1] != "ok"
    assert all("crew" not in str(entry.detail) for entry in entries)


def test_a_privacy_officer_reads_but_does_not_reply(
    twilio: TwilioClient, staff: StaffFactory
) -> None:
    officer = staff.headers("privacy_officer", "pria")
    agent = staff.headers("agent", "anton")
    client = twilio.client
    book(client, agent, new_request(client, agent))
    reply(twilio, "Thanks")
    text = client.get("/api/messages/inbound", headers=officer).json()[0]
    assert (
        client.get(f"/api/messages/inbound/{text['id']}/conversation", headers=officer).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/messages/inbound/{text['id']}/reply", json={"body": "Hi"}, headers=officer
        ).status_code
        == 403
    )


def test_a_reply_sent_again_is_texted_once(
    twilio: TwilioClient, agent: dict[str, str], context: AppContext
) -> None:
    """A client that did not hear the answer sends the same reply to the same text again:
    the caller gets it once; the second is refused, audited, and says why."""
    client: TestClient = twilio.client
    book(client, agent, new_request(client, agent))
    assert reply(twilio, "Can the crew come after 10?").status_code == 200
    [text] = client.get("/api/messages/inbound", headers=agent).json()
    path = f"/api/messages/inbound/{text['id']}/reply"
    answer = {"body": "Yes: the crew comes between 10 and 11."}
    assert client.post(path, json=answer, headers=agent).status_code == 201
    again = client.post(path, json=answer, headers=agent)
    assert again.status_code == 409 and "crew" not in again.json()["detail"]
    other = client.post(path, json={"body": "The crew is on its way."}, headers=agent)
    assert other.status_code == 201, other.text
    replies = [
        entry
        for entry in other.json()["items"]
        if entry["direction"] == "out" and entry["kind"] == "reply"
    ]
    assert [entry["body"] for entry in replies] == [answer["body"], "The crew is on its way."]
    outcomes = [e.outcome for e in audit_entries(context, AuditEntry.action == "messages.reply")]
    assert outcomes == ["ok", "conflict", "ok"]
