"""A request's visits from its page: listed with their texts, booked only within the
department's visiting hours (a plain-language refusal otherwise, also when moving one),
and the text previewed with the number of SMS parts it will go as."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from services.messaging import segments
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.services.appointments.test_appointments import book, new_request
from tests.support import StaffFactory, audit_entries, served

SANITATION = {"Sanitation": "mon-fri 08:00-17:00; sat 09:00-12:00"}


def test_visits_outside_the_departments_hours_are_refused_in_plain_words(
    context_with: Callable[..., AppContext],
) -> None:
    context = context_with(department_visit_hours=SANITATION)
    headers = StaffFactory(context).headers("agent", "vera")
    with served(context) as client:
        request_id = new_request(client, headers)  # bulk pickup: Sanitation
        # Friday 2026-11-20, 17:00 to 19:00: past closing.
        late = book(
            client,
            headers,
            request_id,
            starts_at="2026-11-20T17:00:00-05:00",
            ends_at="2026-11-20T19:00:00-05:00",
        )
        assert late.status_code == 422, late.text
        error = late.json()["errors"][0]
        assert error["field"] == "starts_at"
        assert error["message"] == (
            "Sanitation makes visits Monday to Friday 8:00 AM to 5:00 PM; "
            "Saturday 9:00 AM to 12:00 PM: choose a time within those hours."
        )
        sunday = book(
            client,
            headers,
            request_id,
            starts_at="2026-11-22T09:00:00-05:00",
            ends_at="2026-11-22T10:00:00-05:00",
        )
        assert sunday.status_code == 422
        booked = book(client, headers, request_id)  # Friday 09:00 to 11:00
        assert booked.status_code == 201, booked.text
        moved = client.post(
            f"/api/appointments/{booked.json()['id']}/reschedule",
            json={"starts_at": "2026-11-21T11:00:00", "ends_at": "2026-11-21T13:00:00"},
            headers=headers,
        )
        assert moved.status_code == 422 and "Saturday 9:00 AM" in moved.json()["detail"]

        listed = client.get(f"/api/appointments?request_id={request_id}", headers=headers)
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["department"] == "Sanitation"
        assert body["visit_hours"].startswith("Monday to Friday 8:00 AM")
        assert [item["id"] for item in body["items"]] == [booked.json()["id"]]
        assert {text["kind"] for text in body["items"][0]["texts"]} >= {"confirmation"}

        missing = client.get("/api/appointments?request_id=SR-ZZZZZ-ZZZZZ", headers=headers)
        assert missing.status_code == 404
        entries = audit_entries(context, AuditEntry.action == "appointments.of_request")
        assert [entry.outcome for entry in entries] == ["ok", "not_found"]
        assert entries[0].object_id == request_id


def test_any_time_when_no_hours_are_set(client: TestClient, agent: dict[str, str]) -> None:
    request_id = new_request(client, agent)
    late = book(
        client,
        agent,
        request_id,
        starts_at="2026-11-22T20:00:00-05:00",
        ends_at="2026-11-22T21:00:00-05:00",
    )
    assert late.status_code == 201, late.text
    listed = client.get(f"/api/appointments?request_id={request_id}", headers=agent).json()
    assert listed["visit_hours"] is None


def test_the_preview_says_how_many_parts_the_text_goes_as(
    client: TestClient, agent: dict[str, str]
) -> None:
    request_id = new_request(client, agent)
    window = {"starts_at": "2026-11-20T09:00:00", "ends_at": "2026-11-20T11:00:00"}
    short = client.post(
        "/api/appointments/preview",
        json={"request_id": request_id, "location": "12 Oak St", **window},
        headers=agent,
    ).json()
    assert (short["segments"], short["encoding"]) == (1, "GSM-7")
    long = client.post(
        "/api/appointments/preview",
        json={
            "request_id": request_id,
            "location": "Behind the blue garage at the back of 12 Oak Street, by the alley gate",
            **window,
        },
        headers=agent,
    ).json()
    assert long["characters"] > 160 and long["segments"] == 2
    accented = client.post(
        "/api/appointments/preview",
        json={"request_id": request_id, "location": "Calle Ñandú 12, patio ✓", **window},
        headers=agent,
    ).json()
    assert accented["encoding"] == "UCS-2" and accented["segments"] >= 2


def test_segments_follow_gsm_and_ucs2_limits() -> None:
    assert segments.count("a" * 160) == segments.Segments("GSM-7", 160, 1)
    assert segments.count("a" * 161).parts == 2
    assert segments.count("a" * 306).parts == 2 and segments.count("a" * 307).parts == 3
    assert segments.count("€" * 80) == segments.Segments("GSM-7", 160, 1)  # two septets each
    assert segments.count("ü" * 160).encoding == "GSM-7"
    assert segments.count("✓" * 70) == segments.Segments("UCS-2", 70, 1)
    assert segments.count("✓" * 71).parts == 2
    assert segments.count("😀" * 35).units == 70
