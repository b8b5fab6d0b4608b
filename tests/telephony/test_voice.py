"""The call flow as Twilio drives it: greeting, menu, dial, voicemail, progress events."""

from __future__ import annotations

import random
import re
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.calls import service as calls_service
from services.calls.models import Call, CallEvent
from services.calls.progress import NO_SEQUENCE
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from tests.support import OPEN_HOURS, StaffFactory, TwilioClient, call_sid, rfc2822


def twiml(text: str) -> ET.Element:
    return ET.fromstring(text)


def said(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter("Say")]


def fetch(twilio: TwilioClient, headers: dict[str, str], sid: str) -> dict[str, Any]:
    response = twilio.client.get(f"/api/calls/{sid}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_incoming_call_is_logged_and_greeted_with_the_recording_notice(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = call_sid()
    response = twilio.post(
        "/twilio/voice", twilio.call_params(sid, "ringing", CallerName="JOHN Q PUBLIC")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = twiml(response.text)
    speech = said(root)
    assert any("recorded for quality assurance and training" in line for line in speech)
    assert any("Para español, oprima 9" in line for line in speech)
    assert any("For water and sewer, press 3" in line for line in speech)
    assert root.find("Dial") is None  # nothing is recorded before the notice is heard
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("action") == "https://311.example.gov/twilio/voice/gather?lang=en&attempt=1"

    call = fetch(twilio, agent, sid)
    assert call["from_number"] == "+12025550142"
    assert call["to_number"] == "+12025550100"
    assert call["caller_name"] == "JOHN Q PUBLIC"
    assert call["direction"] == "inbound"
    assert call["status"] == "ringing"
    assert call["caller_withheld"] is False
    assert call["started_at"] == "2026-11-18T10:00:00-05:00"  # shown in the city's time zone


def test_a_control_character_in_a_menu_name_leaves_the_twiml_readable(
    twilio: TwilioClient, staff: StaffFactory
) -> None:
    """Menu names are typed by staff; one BEL in one made every greeting unreadable XML,
    so Twilio could answer no call."""
    admin = staff.headers("admin", "root")
    changed = twilio.client.patch(
        "/api/extensions/3", json={"name_en": "water\x07 and sewer"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    response = twilio.post("/twilio/voice", twilio.call_params(call_sid(), "ringing"))
    speech = said(twiml(response.text))
    assert any("For water and sewer, press 3" in line for line in speech)


def test_choosing_a_department_sets_the_extension_and_dials_with_dual_channel_recording(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = twilio.ring()
    response = twilio.press(sid, "3")
    root = twiml(response.text)
    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == "https://311.example.gov/twilio/recordings"
    assert dial.get("action") == "https://311.example.gov/twilio/voice/dial-complete?lang=en&ext=3"
    client = dial.find("Client")
    assert client is not None and client.text == "water"
    assert client.get("statusCallback") == "https://311.example.gov/twilio/voice/status"
    assert "answered" in (client.get("statusCallbackEvent") or "")
    assert fetch(twilio, agent, sid)["extension"] == "3"


def test_a_wrong_key_repeats_the_menu_and_the_third_miss_reaches_the_operator(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = twilio.ring()
    first = twiml(twilio.press(sid, "7").text)
    assert any("not one of the choices" in line for line in said(first))
    gather = first.find("Gather")
    assert gather is not None and gather.get("action", "").endswith("attempt=2")
    silent = twiml(twilio.press(sid, attempt=2).text)
    assert not any("not one of the choices" in line for line in said(silent))
    last = twiml(twilio.press(sid, attempt=3).text)
    client = last.find("Dial/Client")
    assert client is not None and client.text == "operator"
    assert fetch(twilio, agent, sid)["extension"] == "0"


def test_spanish_callers_get_the_whole_flow_in_spanish(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = twilio.ring()
    menu = twiml(twilio.press(sid, "9").text)
    assert any("grabada para control de calidad" in line for line in said(menu))
    assert all(say.get("language") == "es-US" for say in menu.iter("Say"))
    gather = menu.find("Gather")
    assert gather is not None
    action = gather.get("action", "").removeprefix(twilio.public_url)
    dial = twiml(twilio.post(action, twilio.call_params(sid, "in-progress", Digits="1")).text)
    assert any("le comunicamos con basura" in line for line in said(dial))
    assert dial.find("Dial") is not None
    assert fetch(twilio, agent, sid)["extension"] == "1"


def test_after_hours_the_caller_hears_the_notice_then_voicemail(
    twilio: TwilioClient, clock: ManualClock
) -> None:
    clock.set(OPEN_HOURS.replace(hour=3))  # 22:00 the night before, in New York
    root = twiml(twilio.post("/twilio/voice", twilio.call_params(call_sid(), "ringing")).text)
    speech = said(root)
    assert any("not available at this hour" in line for line in speech)
    assert speech.index(next(s for s in speech if "recorded" in s)) == 1
    record = root.find("Record")
    assert record is not None
    assert record.get("recordingStatusCallback") == (
        "https://311.example.gov/twilio/recordings?kind=voicemail"
    )
    assert record.get("action") == (
        "https://311.example.gov/twilio/voice/voicemail-complete?lang=en"
    )


@pytest.mark.parametrize(
    ("outcome", "voicemail"), [("no-answer", True), ("busy", True), ("completed", False)]
)
def test_after_the_dial_nobody_answering_means_voicemail(
    outcome: str, voicemail: bool, twilio: TwilioClient
) -> None:
    sid = twilio.ring()
    root = twiml(
        twilio.post(
            "/twilio/voice/dial-complete?lang=en",
            twilio.call_params(sid, "in-progress", DialCallStatus=outcome, DialCallSid=call_sid()),
        ).text
    )
    assert (root.find("Record") is not None) == voicemail
    if not voicemail:
        assert root.find("Hangup") is not None
    goodbye = twilio.post(
        "/twilio/voice/voicemail-complete?lang=en", twilio.call_params(sid, "completed")
    )
    assert "Goodbye" in goodbye.text


def leg_events(twilio: TwilioClient, parent: str, child: str, talk: int) -> list[dict[str, str]]:
    steps = [("initiated", 0), ("ringing", 1), ("in-progress", 7), ("completed", 7 + talk)]
    events = []
    for sequence, (status, offset) in enumerate(steps):
        params = twilio.leg_params(
            parent,
            child,
            status,
            to="client:water",
            sequence=sequence,
            Timestamp=rfc2822(OPEN_HOURS + timedelta(seconds=offset)),
        )
        if status == "completed":
            params["CallDuration"] = str(talk)
        events.append(params)
    return events


def connected_call(twilio: TwilioClient) -> str:
    parent = twilio.ring()
    twilio.press(parent, "3")
    return parent


def test_shuffled_and_duplicated_callbacks_end_like_the_ordered_replay(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    reference_parent, reference_child = connected_call(twilio), call_sid()
    for params in leg_events(twilio, reference_parent, reference_child, 95):
        assert twilio.post("/twilio/voice/status", params).status_code == 204
    expected = fetch(twilio, agent, reference_child)
    assert expected["status"] == "completed"
    assert expected["duration_seconds"] == 95
    assert expected["answered_at"] == "2026-11-18T10:00:07-05:00"
    assert expected["ended_at"] == "2026-11-18T10:01:42-05:00"
    assert expected["extension"] == "3"
    assert expected["parent_call_sid"] == reference_parent

    rng = random.Random(311)
    for _ in range(6):
        parent, child = connected_call(twilio), call_sid()
        events = leg_events(twilio, parent, child, 95)
        arrivals = events + rng.sample(events, k=rng.randint(1, len(events)))
        rng.shuffle(arrivals)
        for params in arrivals:
            assert twilio.post("/twilio/voice/status", params).status_code == 204
        got = fetch(twilio, agent, child)
        for field in (
            "status",
            "duration_seconds",
            "answered_at",
            "ended_at",
            "started_at",
            "extension",
        ):
            assert got[field] == expected[field], (field, arrivals)


def test_a_late_ringing_event_never_reopens_a_completed_call(
    twilio: TwilioClient, agent: dict[str, str], context: AppContext
) -> None:
    parent, child = connected_call(twilio), call_sid()
    events = leg_events(twilio, parent, child, 30)
    for params in [events[3], events[2], events[1], events[0]]:
        twilio.post("/twilio/voice/status", params)
    assert fetch(twilio, agent, child)["status"] == "completed"
    with context.db() as session:
        logged = session.scalar(
            sa.select(sa.func.count()).select_from(CallEvent).where(CallEvent.call_sid == child)
        )
    assert logged == 4


def test_withheld_callers_are_logged_without_a_number(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    for caller in ("anonymous", "+266696687", "Restricted", ""):
        sid = call_sid()
        params = twilio.call_params(sid, "ringing", From=caller, CallerName="SHOULD NOT KEEP")
        assert twilio.post("/twilio/voice", params).status_code == 200
        call = fetch(twilio, agent, sid)
        assert call["caller_withheld"] is True
        assert call["from_number"] is None
        assert call["caller_name"] is None


def test_an_unreadable_caller_id_is_kept_as_text_and_the_call_still_flows(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = call_sid()
    response = twilio.post(
        "/twilio/voice", twilio.call_params(sid, "ringing", From="sip:kiosk@lobby.example.gov")
    )
    assert response.status_code == 200
    call = fetch(twilio, agent, sid)
    assert call["from_number"] is None
    assert call["caller_withheld"] is False
    assert call["caller_id_text"] == "sip:kiosk@lobby.example.gov"


@pytest.mark.parametrize(
    "change",
    [{"CallSid": "not-a-sid"}, {"CallSid": ""}, {"CallStatus": "exploded"}, {"ParentCallSid": "x"}],
)
def test_malformed_webhooks_get_400_and_store_nothing(
    change: dict[str, str], twilio: TwilioClient, context: AppContext
) -> None:
    params = twilio.call_params(call_sid(), "ringing")
    params.update(change)
    response = twilio.post("/twilio/voice/status", params)
    assert response.status_code == 400
    assert response.json()["title"] == "Malformed webhook"
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CallEvent)) == 0


def test_a_huge_body_is_refused_before_it_is_read(
    twilio: TwilioClient, context: AppContext
) -> None:
    params = twilio.call_params(call_sid(), "ringing", Padding="x" * 200_000)
    response = twilio.post("/twilio/voice", params)
    assert response.status_code == 413
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Call)) == 0


def test_concurrent_callbacks_for_one_call_all_land(context: AppContext) -> None:
    """Many threads, one call: every event is stored once and the record is the join of all."""
    parent = call_sid()
    now = context.clock.now()
    statuses = ["initiated", "ringing", "in-progress", "completed"]
    events = [
        calls_service.VoiceEvent(
            call_sid=parent,
            source="status",
            status=status,
            sequence=sequence,
            occurred_at=now + timedelta(seconds=sequence),
            received_at=now,
            from_raw="+12025550142",
            to_raw="+12025550100",
            duration_seconds=1 if status == "completed" else None,
        )
        for sequence, status in enumerate(statuses)
    ] * 3
    barrier = threading.Barrier(len(events))
    errors: list[BaseException] = []

    def deliver(event: calls_service.VoiceEvent) -> None:
        barrier.wait()
        try:
            with context.db.begin() as session:
                calls_service.record_call_event(session, context.keyring, event, region="US")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with context.db() as session:
        call = session.scalars(sa.select(Call).where(Call.call_sid == parent)).one()
        assert (call.status, call.duration_seconds, call.status_sequence) == ("completed", 1, 3)
        assert call.answered_at == now + timedelta(seconds=2)
        count = session.scalar(sa.select(sa.func.count()).select_from(CallEvent))
        assert count == 4


def test_events_without_a_sequence_number_still_merge(context: AppContext) -> None:
    now = context.clock.now()
    event = calls_service.VoiceEvent(
        call_sid=call_sid(),
        source="status",
        status="completed",
        sequence=NO_SEQUENCE,
        occurred_at=now,
        received_at=now,
        duration_seconds=12,
    )
    with context.db.begin() as session:
        assert calls_service.record_call_event(session, context.keyring, event, region="US")
        assert not calls_service.record_call_event(session, context.keyring, event, region="US")


def test_no_number_is_stored_in_the_clear(twilio: TwilioClient, context: AppContext) -> None:
    twilio.ring(CallerName="JANE ROE")
    with context.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM calls")).all()
    dump = repr(rows)
    assert not re.search(r"2025550142|JANE ROE", dump)
