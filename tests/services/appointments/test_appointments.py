"""Appointments confirmed and reminded by text, only to mobile numbers callers gave,
never in quiet hours, never to a number that said STOP, never twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.messaging import jobs as text_jobs
from services.messaging import service as texts
from services.messaging.carrier import SendFailed
from services.messaging.models import TextMessage
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.queue import RetryLater
from tests.fakes.twilio_api import FakeTwilio
from tests.support import (
    StaffFactory,
    TwilioClient,
    audit_entries,
    audit_entry,
    call_sid,
    filed_request,
    served,
    wait_until,
)

MOBILE = "(302) 555-0123"


def new_request(client: TestClient, headers: dict[str, str], **extra: Any) -> str:
    body = {"service_code": "bulk-pickup", "contact": {"name": "Ana", "phone": MOBILE}, **extra}
    return str(filed_request(client, headers, **body)["id"])


def book(client: TestClient, headers: dict[str, str], for_request: str, **extra: Any) -> Any:
    body = {
        "request_id": for_request,
        "starts_at": "2026-11-20T09:00:00-05:00",
        "ends_at": "2026-11-20T11:00:00-05:00",
        "location": "Curb in front of 12 Oak St",
        "phone": MOBILE,
        "language": "en",
        "consent": True,
        **extra,
    }
    return client.post("/api/appointments", json=body, headers=headers)


def deliver_due(context: AppContext) -> None:
    """What the every-minute job does, then the sends it queues, run here in turn."""
    with context.db() as session:
        from services.messaging.sending import due

        ids = due(session, now=context.clock.now())
    for message_id in ids:
        text_jobs.send_one(context, {"message_id": message_id})


def outbox(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list(client.get("/api/messages/outbox", headers=headers).json()["items"])


def test_booking_confirms_by_text_and_holds_a_reminder(
    client: TestClient, agent: dict[str, str], context: AppContext, clock: ManualClock
) -> None:
    request_id = new_request(client, agent)
    sid = call_sid()
    response = book(client, agent, request_id, call_sid=sid)
    assert response.status_code == 201, response.text
    appointment = response.json()
    assert appointment["phone"] == "+13025550123" and appointment["consent_call_sid"] == sid
    assert appointment["department"] == "Sanitation"
    deliver_due(context)
    sent = {text["kind"]: text for text in outbox(client, agent)}
    confirmation = sent["confirmation"]
    assert confirmation["state"] == "sent" and confirmation["gateway"] == "console"
    assert (
        request_id in confirmation["body"]
        and "Fri Nov 20, 9:00 am-11:00 am" in confirmation["body"]
    )
    assert "Curb in front of 12 Oak St" in confirmation["body"] and "STOP" in confirmation["body"]
    reminder = sent["reminder"]
    assert reminder["state"] == "held" and reminder["not_before"] == "2026-11-19T09:00:00-05:00"
    clock.set(datetime(2026, 11, 19, 14, 0, tzinfo=UTC))  # 09:00 the day before, in the city
    deliver_due(context)
    assert {text["kind"]: text["state"] for text in outbox(client, agent)}["reminder"] == "sent"
    booked = audit_entry(context, AuditEntry.action == "appointment.book")
    assert "0123" not in repr(booked.detail)


def test_texts_in_spanish_carry_no_link(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    book(client, agent, new_request(client, agent), language="es")
    deliver_due(context)
    body = next(text for text in outbox(client, agent) if text["kind"] == "confirmation")["body"]
    assert body.startswith("311 de the City: su cita para la solicitud")
    assert "vie 20 nov, 09:00-11:00" in body
    for text in outbox(client, agent):
        assert "http" not in text["body"].lower() and "www" not in text["body"].lower()


def test_the_preview_is_the_text_the_caller_will_get(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    request_id = new_request(client, agent)
    window = {
        "request_id": request_id,
        "starts_at": "2026-11-20T09:00:00-05:00",
        "ends_at": "2026-11-20T11:00:00-05:00",
        "location": "Curb in front of 12 Oak St",
    }
    preview = client.post("/api/appointments/preview", json=window, headers=agent).json()
    book(client, agent, request_id)
    deliver_due(context)
    assert (
        preview["text"]
        == next(t for t in outbox(client, agent) if t["kind"] == "confirmation")["body"]
    )


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("+44 20 7946 0958", "is a landline"),
        ("+1 800 555 0199", "toll-free"),
        ("+1 900 555 0100", "premium-rate"),
        ("+1 302 555 01", "right number of digits"),
        ("not a number", "not a phone number"),
    ],
)
def test_only_numbers_that_take_texts(
    phone: str, message: str, client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    response = book(client, agent, new_request(client, agent), phone=phone)
    assert response.status_code == 422
    assert (
        response.json()["errors"][0]["field"] == "phone"
        and message in response.json()["errors"][0]["message"]
    )
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TextMessage)) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": False}, "consent"),
        (
            {"starts_at": "2026-11-01T09:00:00-04:00", "ends_at": "2026-11-01T10:00:00-04:00"},
            "starts_at",
        ),
        ({"ends_at": "2026-11-20T08:00:00-05:00"}, "ends_at"),
        ({"location": "SSN 219-09-9999"}, "location"),
        ({"request_id": "SR-22222-22222"}, "request_id"),
    ],
)
def test_bad_bookings_name_the_field(
    change: dict[str, Any], field: str, client: TestClient, agent: dict[str, str]
) -> None:
    response = book(client, agent, new_request(client, agent), **change)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_no_appointment_texts_for_an_anonymous_request(
    client: TestClient, agent: dict[str, str]
) -> None:
    anonymous = client.post(
        "/api/requests", json={"service_code": "bulk-pickup", "anonymous": True}, headers=agent
    ).json()["id"]
    response = book(client, agent, anonymous)
    assert response.status_code == 422 and "anonymous" in response.json()["errors"][0]["message"]


def test_quiet_hours_hold_texts_until_morning(
    client: TestClient, agent: dict[str, str], context: AppContext, clock: ManualClock
) -> None:
    request_id = new_request(client, agent)
    clock.set(datetime(2026, 11, 19, 3, 30, tzinfo=UTC))  # 22:30 in the city
    book(
        client,
        agent,
        request_id,
        starts_at="2026-11-21T09:00:00-05:00",
        ends_at="2026-11-21T10:00:00-05:00",
    )
    deliver_due(context)
    confirmation = next(t for t in outbox(client, agent) if t["kind"] == "confirmation")
    assert (
        confirmation["state"] == "held"
        and confirmation["not_before"] == "2026-11-19T08:00:00-05:00"
    )
    clock.set(datetime(2026, 11, 19, 12, 59, tzinfo=UTC))  # 07:59
    deliver_due(context)
    assert next(t for t in outbox(client, agent) if t["kind"] == "confirmation")["state"] == "held"
    clock.set(datetime(2026, 11, 19, 13, 0, tzinfo=UTC))  # 08:00
    deliver_due(context)
    assert next(t for t in outbox(client, agent) if t["kind"] == "confirmation")["state"] == "sent"


def reply(twilio: TwilioClient, body: str, sender: str = "+13025550123") -> Any:
    return twilio.text(sender, body)


def test_stop_start_and_help(
    twilio: TwilioClient, agent: dict[str, str], context: AppContext
) -> None:
    request_id = new_request(twilio.client, agent)
    book(twilio.client, agent, request_id)
    assert reply(twilio, "  Stop. ").status_code == 200
    assert {t["kind"]: t["state"] for t in outbox(twilio.client, agent)} == {
        "confirmation": "cancelled",
        "reminder": "cancelled",
    }
    refused = book(twilio.client, agent, request_id)
    assert refused.status_code == 422 and "opted out" in refused.json()["errors"][0]["message"]
    help_text = reply(twilio, "HELP")
    assert "<Message>" in help_text.text and "Reply STOP" in help_text.text
    assert "para ayuda" not in help_text.text and "Llame al 311" in reply(twilio, "ayuda").text
    assert "<Message>" in reply(twilio, "start").text
    # The first visit still stands (the same one again is refused as a retry); another
    # one can be booked and confirmed by text again.
    assert book(twilio.client, agent, request_id).status_code == 409
    later = {"starts_at": "2026-11-20T13:00:00-05:00", "ends_at": "2026-11-20T15:00:00-05:00"}
    assert book(twilio.client, agent, request_id, **later).status_code == 201
    assert reply(twilio, "stop now please").status_code == 200  # not just the keyword: a message
    with context.db() as session:
        assert not texts.is_opted_out(session, context.keyring, "+13025550123")


def test_a_callers_reply_reaches_staff_with_their_requests_and_no_ssn(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    request_id = new_request(twilio.client, agent)
    reply(twilio, "Can you come after 10? My SSN is 219-09-9999")
    (message,) = twilio.client.get("/api/messages/inbound", headers=agent).json()
    assert message["sender"] == "+13025550123" and message["earlier_requests"] == [request_id]
    assert "219-09-9999" not in message["body"] and "Can you come after 10?" in message["body"]
    assert (
        twilio.post("/twilio/sms", {"MessageSid": "SMx", "From": "+13025550123"}).status_code == 400
    )
    assert (
        twilio.post(
            "/twilio/sms", {"MessageSid": "SM" + "0" * 32, "From": "+13025550123"}, unsigned=True
        ).status_code
        == 403
    )


def test_reschedule_and_cancel(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    appointment = book(client, agent, new_request(client, agent)).json()
    moved = client.post(
        f"/api/appointments/{appointment['id']}/reschedule",
        json={"starts_at": "2026-11-23T13:00:00", "ends_at": "2026-11-23T15:00:00"},
        headers=agent,
    ).json()
    assert moved["starts_at"] == "2026-11-23T13:00:00-05:00"
    states = [(t["kind"], t["state"]) for t in moved["texts"]]
    assert (
        ("reminder", "cancelled") in states
        and ("reschedule", "queued") in states
        and ("reminder", "held") in states
    )
    deliver_due(context)
    notice = next(t for t in outbox(client, agent) if t["kind"] == "reschedule")
    assert (
        notice["state"] == "sent" and "has moved to Mon Nov 23, 1:00 pm-3:00 pm" in notice["body"]
    )
    cancelled = client.post(f"/api/appointments/{appointment['id']}/cancel", headers=agent).json()
    assert cancelled["status"] == "cancelled"
    assert all(t["state"] != "held" for t in cancelled["texts"])
    assert (
        client.post(f"/api/appointments/{appointment['id']}/cancel", headers=agent).status_code
        == 409
    )
    trail = audit_entries(context, AuditEntry.object_id == appointment["id"])
    # the second cancellation changed nothing and is audited as the conflict it was
    assert [(entry.action, entry.outcome) for entry in trail] == [
        ("appointment.book", "ok"),
        ("appointment.reschedule", "ok"),
        ("appointment.cancel", "ok"),
        ("appointment.cancel", "conflict"),
    ]


def test_a_booking_or_a_move_sent_again_texts_the_caller_once(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    """A client that did not hear the answer books the same visit again, or moves a visit
    to where it already is: nothing new is booked or texted; the refusal says why."""
    request_id = new_request(client, agent)
    first = book(client, agent, request_id)
    assert first.status_code == 201, first.text
    again = book(client, agent, request_id)
    assert again.status_code == 409 and first.json()["id"] in again.json()["detail"]
    assert "0123" not in again.text  # the number is not echoed in the refusal
    elsewhere = book(
        client,
        agent,
        request_id,
        starts_at="2026-11-20T13:00:00-05:00",
        ends_at="2026-11-20T15:00:00-05:00",
    )
    assert elsewhere.status_code == 201, elsewhere.text  # another window is another visit
    other_place = book(client, agent, request_id, location="Back alley gate")
    assert other_place.status_code == 201, other_place.text  # so is another place
    path = f"/api/appointments/{first.json()['id']}/reschedule"
    window = {"starts_at": "2026-11-23T13:00:00", "ends_at": "2026-11-23T15:00:00"}
    assert client.post(path, json=window, headers=agent).status_code == 200
    assert client.post(path, json=window, headers=agent).status_code == 409
    deliver_due(context)
    kinds = sorted(text["kind"] for text in outbox(client, agent) if text["state"] == "sent")
    assert kinds == ["confirmation", "confirmation", "confirmation", "reschedule"]
    trail = audit_entries(
        context, AuditEntry.action.in_(["appointment.book", "appointment.reschedule"])
    )
    assert [(entry.action, entry.outcome) for entry in trail] == [
        ("appointment.book", "ok"),
        ("appointment.book", "conflict"),
        ("appointment.book", "ok"),
        ("appointment.book", "ok"),
        ("appointment.reschedule", "ok"),
        ("appointment.reschedule", "conflict"),
    ]


def test_a_refused_booking_is_audited_without_the_number(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    refused = book(client, agent, new_request(client, agent), phone="+1 800 555 0199")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "phone"
    entry = audit_entry(context, AuditEntry.request_id == refused.json()["request_id"])
    assert (entry.action, entry.outcome, entry.object_id) == ("appointment.book", "invalid", None)
    assert "555" not in repr(entry.detail) and "0199" not in repr(entry.detail)


@pytest.fixture
def twilio_context(context_with: Callable[..., AppContext], fake_twilio: FakeTwilio) -> AppContext:
    """Texts go out through Twilio's SDK, to the fake Twilio."""
    return context_with(
        sms_gateway="twilio",
        twilio_api_base_url=fake_twilio.url,
        twilio_timeout_seconds=1.0,
        embedded_worker=False,
        sms_rate_per_second=1000,
    )


def queue(context: AppContext, to: str, key: str = "test:1") -> int:
    now = context.clock.now()
    with context.db.begin() as session:
        message_id = texts.queue_text(
            session,
            context.keyring,
            key=key,
            kind="confirmation",
            to=to,
            body="City 311: test text.",
            language="en",
            appointment_id=None,
            not_before=now,
            now=now,
        )
    assert message_id is not None
    return message_id


def state_of(context: AppContext, message_id: int) -> TextMessage:
    with context.db() as session:
        message = session.get(TextMessage, message_id)
        assert message is not None
        session.expunge(message)
        return message


def test_the_twilio_sdk_sends_and_status_callbacks_never_downgrade(
    twilio_context: AppContext, fake_twilio: FakeTwilio
) -> None:
    message_id = queue(twilio_context, "+13025550123")
    text_jobs.send_one(twilio_context, {"message_id": message_id})
    (sent,) = fake_twilio.state["messages"]
    assert (
        sent["status_callback"] == "https://311.example.gov/twilio/sms/status"
        and sent["from"] == "+13025550100"
    )
    sid = state_of(twilio_context, message_id).message_sid
    assert sid == sent["sid"]
    with served(twilio_context) as client:
        twilio = TwilioClient(client)
        for status in ("sent", "delivered", "sent", "delivered", "queued"):
            assert (
                twilio.post(
                    "/twilio/sms/status", {"MessageSid": sid, "MessageStatus": status}
                ).status_code
                == 204
            )
    final = state_of(twilio_context, message_id)
    assert (final.state, final.twilio_status) == ("delivered", "delivered")


def test_429_and_5xx_are_retried_without_sending_twice(
    twilio_context: AppContext, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.state["sms_next"] = ["429", "500"]
    message_id = queue(twilio_context, "+13025550123")
    for _ in range(2):
        with pytest.raises(SendFailed):
            text_jobs.send_one(twilio_context, {"message_id": message_id})
        assert state_of(twilio_context, message_id).state == "queued"
    text_jobs.send_one(twilio_context, {"message_id": message_id})
    text_jobs.send_one(
        twilio_context, {"message_id": message_id}
    )  # a duplicate job changes nothing
    assert state_of(twilio_context, message_id).state == "sent"
    assert len(fake_twilio.state["messages"]) == 1


def test_a_lost_answer_is_checked_before_sending_again(
    twilio_context: AppContext, fake_twilio: FakeTwilio, clock: ManualClock
) -> None:
    fake_twilio.state["sms_next"] = ["accept-then-hang"]
    message_id = queue(twilio_context, "+13025550123")
    with pytest.raises(SendFailed):
        text_jobs.send_one(twilio_context, {"message_id": message_id})
    assert state_of(twilio_context, message_id).state == "sending"
    clock.advance(timedelta(minutes=3))
    text_jobs.send_one(twilio_context, {"message_id": message_id})
    assert state_of(twilio_context, message_id).state == "sent"
    assert len(fake_twilio.state["messages"]) == 1  # Twilio took it once; we never sent again
    assert (
        state_of(twilio_context, message_id).message_sid == fake_twilio.state["messages"][0]["sid"]
    )


@pytest.mark.parametrize("uncertain_after", [None, 30.0])
def test_a_job_that_finds_its_text_mid_send_comes_back_when_that_attempt_is_stale(
    context_with: Callable[..., AppContext],
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    uncertain_after: float | None,
) -> None:
    """A worker killed mid-send leaves the text "sending"; the job run again after its
    lease must not end there (nothing would send it until a sweep), nor send it blind."""
    overrides = {} if uncertain_after is None else {"sms_uncertain_after_seconds": uncertain_after}
    context = context_with(
        sms_gateway="twilio",
        twilio_api_base_url=fake_twilio.url,
        twilio_timeout_seconds=1.0,
        **overrides,
    )
    fake_twilio.state["sms_next"] = ["accept-then-hang"]
    message_id = queue(context, "+13025550123")
    with pytest.raises(SendFailed):
        text_jobs.send_one(context, {"message_id": message_id})
    with pytest.raises(RetryLater) as later:
        text_jobs.send_one(context, {"message_id": message_id})
    assert later.value.delay == (uncertain_after or 120.0)
    clock.advance(timedelta(seconds=later.value.delay + 1))
    text_jobs.send_one(context, {"message_id": message_id})
    assert state_of(context, message_id).state == "sent"
    assert len(fake_twilio.state["messages"]) == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [("+15005550001", "21211"), ("+15005550009", "21614"), ("+15005550004", "21610")],
)
def test_twilio_refusals_end_the_text(number: str, code: str, twilio_context: AppContext) -> None:
    message_id = queue(twilio_context, number)
    text_jobs.send_one(twilio_context, {"message_id": message_id})
    failed = state_of(twilio_context, message_id)
    assert (failed.state, failed.error_code) == ("failed", code)
    with twilio_context.db() as session:
        assert texts.is_opted_out(session, twilio_context.keyring, number) is (code == "21610")


def test_lookup_decides_the_line_type_when_enabled(
    context_with: Callable[..., AppContext], fake_twilio: FakeTwilio
) -> None:
    context = context_with(
        sms_gateway="twilio",
        twilio_api_base_url=fake_twilio.url,
        twilio_lookup=True,
        embedded_worker=False,
    )
    fake_twilio.state["line_types"] = {"+13025550123": "landline"}
    with served(context) as client:
        headers = StaffFactory(context).headers("agent", "lookup-agent")
        refused = book(client, headers, new_request(client, headers))
        assert (
            refused.status_code == 422
            and "carrier reports a landline" in refused.json()["errors"][0]["message"]
        )
        fake_twilio.state["line_types"] = {"+13025550123": "mobile"}
        assert book(client, headers, new_request(client, headers)).status_code == 201


def test_the_sender_rate_limit_is_shared_through_the_queue(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue counts uses in whole-second windows of the clock: hold the clock inside
    # one window (on a busy machine the three takes could straddle two).
    now = {"time": 1_800_000_000.25}
    monkeypatch.setattr("huey.api.time", SimpleNamespace(time=lambda: now["time"]))
    context.jobs.take_rate("test-sender", per_second=2)
    context.jobs.take_rate("test-sender", per_second=2)
    with pytest.raises(RetryLater) as over:
        context.jobs.take_rate("test-sender", per_second=2)
    assert over.value.delay == pytest.approx(0.75)  # until the next second
    now["time"] += 1
    context.jobs.take_rate("test-sender", per_second=2)  # a new second, a new allowance


def test_from_booking_to_the_outbox_through_the_job_queue(
    context_with: Callable[..., AppContext],
) -> None:
    context = context_with(embedded_worker=True)
    with served(context) as client:
        headers = StaffFactory(context).headers("agent", "queue-agent")
        book(client, headers, new_request(client, headers))

        def states() -> dict[str, str]:
            return {t["kind"]: t["state"] for t in outbox(client, headers)}

        wait_until("the confirmation is sent", lambda: states().get("confirmation") == "sent")
        assert states() == {"confirmation": "sent", "reminder": "held"}
