"""Updates on requests: only with consent, only on the consented channel, one message
per hour at most, nothing after STOP or an unsubscribe, and a reference number only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.email import jobs as email_jobs
from services.email.sending import due as emails_due
from services.messaging import jobs as text_jobs
from services.messaging.sending import due as texts_due
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.updates import actions as updates
from tests.fakes.smtp_server import MailSink
from tests.support import (
    PUBLIC_URL,
    StaffFactory,
    TwilioClient,
    audit_entry,
    filed_request,
    served,
)

MOBILE = "(302) 555-0123"
EMAIL = "ana@example.org"


@pytest.fixture
def mailed(context_with: Callable[..., AppContext], smtp: tuple[MailSink, str]) -> AppContext:
    """The app sending email to the test's SMTP server."""
    return context_with(email_gateway="smtp", smtp_url=smtp[1])


@pytest.fixture
def api(mailed: AppContext) -> Any:
    with served(mailed) as test_client:
        yield test_client


def file(client: TestClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {
        "service_code": "bulk-pickup",
        "contact": {"name": "Ana", "phone": MOBILE, "email": EMAIL},
        **extra,
    }
    return filed_request(client, headers, **body)


def move(
    client: TestClient, headers: dict[str, str], number: str, status: str, **extra: Any
) -> None:
    response = client.post(
        f"/api/requests/{number}/status", json={"status": status, **extra}, headers=headers
    )
    assert response.status_code == 200, response.text


def deliver(context: AppContext) -> None:
    """The sweeps and the sends they queue, run here in turn."""
    updates.tell_due(context)
    with context.db() as session:
        texts = texts_due(session, now=context.clock.now())
        emails = emails_due(session, now=context.clock.now())
    for message_id in texts:
        text_jobs.send_one(context, {"message_id": message_id})
    for message_id in emails:
        email_jobs.send_one(context, {"message_id": message_id})


def texts_sent(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items = client.get("/api/messages/outbox", headers=headers).json()["items"]
    return [item for item in items if item["kind"] == "update" and item["state"] == "sent"]


def test_consent_is_recorded_per_channel_and_shown_in_the_confirmation(
    api: TestClient, staff: StaffFactory
) -> None:
    headers = staff.headers("agent", "ana-taker")
    filed = file(api, headers, updates={"sms": True, "email": False, "language": "es"})
    [consent] = filed["updates"]
    assert consent["channel"] == "sms" and consent["to"] == "+13025550123"
    assert consent["consent_by"] == "ana-taker" and consent["language"] == "es"
    assert filed["id"] in consent["confirmation"] and "STOP" in consent["confirmation"]
    assert "(302) 555-0123" in consent["confirmation"]  # read back as people say it
    again = api.get(f"/api/requests/{filed['id']}", headers=headers).json()
    assert [item["channel"] for item in again["updates"]] == ["sms"]


def test_updates_go_only_with_consent_and_only_on_the_consented_channel(
    api: TestClient, staff: StaffFactory, mailed: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    headers = staff.headers("agent")
    silent = file(api, headers)  # no consent at all
    by_text = file(api, headers, updates={"sms": True, "email": False})
    move(api, headers, silent["id"], "in_progress")
    move(api, headers, by_text["id"], "in_progress")
    deliver(mailed)
    sent = texts_sent(api, headers)
    assert len(sent) == 1 and by_text["id"] in sent[0]["body"]
    assert silent["id"] not in sent[0]["body"]
    assert sink.received == []  # no email: not consented


def test_an_email_update_names_the_request_and_carries_only_the_unsubscribe_link(
    api: TestClient, staff: StaffFactory, mailed: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    headers = staff.headers("agent")
    filed = file(api, headers, updates={"email": True})
    move(api, headers, filed["id"], "closed", note="Picked up on Tuesday.", public=True)
    deliver(mailed)
    [message] = sink.to(EMAIL)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert filed["id"] in text and "closed" in text and "Ana" not in text + html
    links = set(re.findall(r"https?://[^\s\"<>]+", text + html))
    unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert links == {unsubscribe} and unsubscribe.startswith(f"{PUBLIC_URL}/public/updates/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_text_update_has_no_link_and_the_reference_only(
    api: TestClient, staff: StaffFactory, mailed: AppContext
) -> None:
    headers = staff.headers("agent")
    filed = file(api, headers, updates={"sms": True})
    move(api, headers, filed["id"], "in_progress")
    deliver(mailed)
    [text] = texts_sent(api, headers)
    assert filed["id"] in text["body"] and "http" not in text["body"] and "Ana" not in text["body"]


def test_one_click_unsubscribe_by_post_without_a_session_stops_emails(
    api: TestClient,
    staff: StaffFactory,
    mailed: AppContext,
    smtp: tuple[MailSink, str],
    clock: ManualClock,
) -> None:
    sink, _ = smtp
    headers = staff.headers("agent")
    filed = file(api, headers, updates={"email": True})
    move(api, headers, filed["id"], "in_progress")
    deliver(mailed)
    [message] = sink.received
    path = str(message["List-Unsubscribe"]).strip().strip("<>").removeprefix(PUBLIC_URL)
    assert api.get(path).status_code == 200  # the footer's page: a button, no change
    response = api.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    clock.advance(timedelta(hours=2))
    move(api, headers, filed["id"], "closed")
    deliver(mailed)
    assert len(sink.received) == 1
    forged = api.post(path.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAA")
    assert forged.status_code == 404


def test_nothing_is_texted_after_stop(
    api: TestClient, staff: StaffFactory, mailed: AppContext
) -> None:
    headers = staff.headers("agent")
    filed = file(api, headers, updates={"sms": True})
    twilio = TwilioClient(api)
    assert twilio.text("+13025550123", "STOP", sid="SM" + "5" * 32).status_code == 200
    move(api, headers, filed["id"], "closed")
    deliver(mailed)
    assert texts_sent(api, headers) == []


def test_changes_within_the_hour_fold_into_one_message(
    api: TestClient, staff: StaffFactory, mailed: AppContext, clock: ManualClock
) -> None:
    headers = staff.headers("agent")
    filed = file(api, headers, updates={"sms": True})
    move(api, headers, filed["id"], "in_progress")
    deliver(mailed)
    clock.advance(timedelta(minutes=10))
    move(api, headers, filed["id"], "open")
    move(api, headers, filed["id"], "closed", note="Done.", public=True)
    deliver(mailed)
    assert len(texts_sent(api, headers)) == 1  # the hour is not over
    clock.advance(timedelta(minutes=55))
    deliver(mailed)
    sent = texts_sent(api, headers)
    assert len(sent) == 2 and "closed" in sent[0]["body"]


def test_consent_needs_the_contact_detail_and_is_refused_for_anonymous_requests(
    api: TestClient, staff: StaffFactory
) -> None:
    headers = staff.headers("agent")
    no_email = api.post(
        "/api/requests",
        json={
            "service_code": "bulk-pickup",
            "contact": {"phone": MOBILE},
            "updates": {"email": True},
        },
        headers=headers,
    )
    assert no_email.status_code == 422 and no_email.json()["errors"][0]["field"] == "updates.email"
    landline = api.post(
        "/api/requests",
        json={
            "service_code": "bulk-pickup",
            "contact": {"phone": "(800) 555-0199"},
            "updates": {"sms": True},
        },
        headers=headers,
    )
    assert landline.status_code == 422 and landline.json()["errors"][0]["field"] == "updates.sms"
    anonymous = api.post(
        "/api/requests",
        json={"service_code": "bulk-pickup", "anonymous": True, "updates": {"sms": True}},
        headers=headers,
    )
    assert anonymous.status_code == 422
    found = api.post("/api/requests/search", json={"phone": MOBILE}, headers=headers).json()
    assert found["items"] == []  # nothing was filed by the refusals


def test_a_caller_added_to_a_request_gets_its_updates(
    api: TestClient, staff: StaffFactory, mailed: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    headers = staff.headers("agent")
    filed = file(api, headers)
    added = api.post(
        f"/api/requests/{filed['id']}/updates",
        json={"email": "Neighbour@Example.org", "language": "es"},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert [item["to"] for item in added.json()] == ["neighbour@example.org"]
    move(api, headers, filed["id"], "closed")
    deliver(mailed)
    [message] = sink.to("neighbour@example.org")
    assert "cerrada" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_change_sent_again_is_recorded_and_told_once(
    api: TestClient, staff: StaffFactory, mailed: AppContext, clock: ManualClock
) -> None:
    """A client that did not hear the answer sends the same change again: the request
    keeps one step and the caller hears of it once, not again an hour later."""
    headers = staff.headers("agent", "ana-taker")
    filed = file(api, headers, updates={"sms": True})
    change = {"status": "in_progress", "note": "Crew on the way.", "public": True}
    move(api, headers, filed["id"], **change)
    deliver(mailed)
    clock.advance(timedelta(seconds=20))
    again = api.post(f"/api/requests/{filed['id']}/status", json=change, headers=headers)
    assert again.status_code == 409, again.text
    assert "Crew" not in again.text  # the note is not echoed in the refusal
    clock.advance(timedelta(minutes=65))
    deliver(mailed)
    assert len(texts_sent(api, headers)) == 1
    history = api.get(f"/api/requests/{filed['id']}", headers=headers).json()["history"]
    assert [step["status"] for step in history] == ["open", "in_progress"]
    audit_entry(mailed, AuditEntry.action == "request.status", AuditEntry.outcome == "conflict")
    # The same words later, or another person's, or a different note, are new steps.
    move(api, headers, filed["id"], **change)
    move(api, staff.headers("agent", "ben-taker"), filed["id"], **change)
    move(api, headers, filed["id"], "in_progress", note="Crew delayed.", public=True)
    history = api.get(f"/api/requests/{filed['id']}", headers=headers).json()["history"]
    assert len(history) == 5
