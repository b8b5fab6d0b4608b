"""A late answer stays late, and the letters speak plainly: dates as people write them,
statuses in words, one call as one call."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.privacy import letters
from tests.support import TwilioClient, call_sid, privacy_request


def _record(client: TestClient, officer: dict[str, str], received_on: str) -> str:
    recorded = privacy_request(
        client, officer, received_on=received_on, requester={"phone": "(302) 555-0188"}
    )
    assert recorded.status_code == 201, recorded.text
    return str(recorded.json()["id"])


def test_an_acknowledgement_after_the_deadline_stays_marked_late(
    client: TestClient, officer: dict[str, str], clock: ManualClock
) -> None:
    on_time = _record(client, officer, "2026-11-18")
    late = _record(client, officer, "2026-11-18")
    # Both due on 25 November (5 business days); one is acknowledged that day.
    clock.set(datetime(2026, 11, 25, 15, tzinfo=UTC))
    answered = client.post(f"/api/privacy/requests/{on_time}/acknowledge", json={}, headers=officer)
    assert answered.json()["answered_late"] is False
    clock.set(datetime(2026, 11, 27, 15, tzinfo=UTC))
    due = {r["id"]: r for r in client.get("/api/privacy/requests", headers=officer).json()}
    assert due[late]["answered_late"] is True and due[late]["next_deadline"]["overdue"]
    assert due[on_time]["answered_late"] is False

    acknowledged = client.post(
        f"/api/privacy/requests/{late}/acknowledge", json={}, headers=officer
    ).json()
    # The next deadline (the decision) is not overdue, but the answer was late, and says so.
    assert acknowledged["next_deadline"]["overdue"] is False
    assert acknowledged["answered_late"] is True and acknowledged["answered_on"] == "2026-11-27"
    listed = {r["id"]: r for r in client.get("/api/privacy/requests", headers=officer).json()}
    assert listed[late]["answered_late"] is True
    granted = client.post(
        f"/api/privacy/requests/{late}/decide", json={"decision": "granted"}, headers=officer
    ).json()
    assert granted["answered_late"] is True and granted["answered_on"] == "2026-11-27"
    everything = client.get("/api/privacy/requests?which=all", headers=officer).json()
    assert {r["id"]: r["answered_late"] for r in everything} == {on_time: False, late: True}


def test_letters_write_dates_lengths_and_statuses_in_words() -> None:
    assert letters.plain("2026-12-02T09:05:00-05:00") == "2 December 2026 at 9:05 am"
    assert letters.plain("2026-12-02T12:30:00-05:00") == "2 December 2026 at 12:30 pm"
    assert letters.plain("2026-12-02") == "2 December 2026"
    assert letters.plain(date(2026, 12, 2)) == "2 December 2026"
    assert letters.plain(192, "duration_seconds") == "3 minutes 12 seconds"
    assert letters.plain(60, "duration_seconds") == "1 minute"
    assert letters.plain("no-answer", "status") == "Not answered"
    assert letters.plain("in_progress", "status") == "Being worked on"
    assert letters.plain("walk_in", "channel") == "In person"
    assert letters.plain("no-answer", "description") == "no-answer"  # free text stays


def test_the_export_shows_one_call_as_one_call_in_plain_words(
    twilio: TwilioClient, officer: dict[str, str], clock: ManualClock
) -> None:
    clock.set(datetime(2026, 12, 2, 14, 5, tzinfo=UTC))  # 9:05 am in the city
    caller = "+13025550188"
    sid = twilio.ring(From=caller)
    twilio.press(sid, "1", From=caller)
    leg = call_sid()
    for status, sequence in (("in-progress", 1), ("completed", 2)):
        twilio.leg(
            sid,
            leg,
            status,
            to="+13025550190",
            sequence=sequence,
            From=caller,
            **({"CallDuration": "150"} if status == "completed" else {}),
        )
    ended = twilio.call_params(
        sid, "no-answer", CallDuration="192", SequenceNumber="9", From=caller
    )
    twilio.post("/twilio/voice/status", ended)
    public_id = _record(twilio.client, officer, "2026-12-01")

    exported = twilio.client.get(f"/api/privacy/requests/{public_id}/export", headers=officer)
    calls = exported.json()["calls"]
    assert [(call["call_sid"], call["legs"]) for call in calls] == [(sid, [leg])]
    page = twilio.client.get(f"/api/privacy/requests/{public_id}/export.html", headers=officer)
    assert page.text.count("2 December 2026 at 9:05 am") >= 1
    assert "3 minutes 12 seconds" in page.text and "Not answered" in page.text
    assert "T14:05" not in page.text and "no-answer" not in page.text
