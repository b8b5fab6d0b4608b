"""Dates and instants from outside are read by one layer (services/platform/params.py)
with a range a city record can fall in: the ends of Python's calendar, with an offset
that pushes them over, get a 4xx naming the field on every endpoint that takes a date,
never a 500, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.calls.models import Call
from services.platform.context import AppContext
from services.platform.params import parse_instant, within_range
from tests.support import StaffFactory, TwilioClient, call_sid

# Year 1 and year 9999 with offsets that carry them outside datetime's range in UTC.
EXTREME_INSTANTS = ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00")
EXTREME_DATES = ("0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01")
SR = "SR-AAAAA-AAAAA"


def _headers(staff: StaffFactory, role: str) -> dict[str, str]:
    return staff.headers(role, f"{role.replace('_', '-')}-dates")


# (role, probe, values): each probe sends one extreme value in one date field.
GETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "calls since": ("supervisor", "/api/calls?since={}", EXTREME_INSTANTS),
    "calls until": ("supervisor", "/api/calls?until={}", EXTREME_INSTANTS),
    "audit since": ("privacy_officer", "/api/audit?since={}", EXTREME_INSTANTS),
    "audit until": ("privacy_officer", "/api/audit?until={}", EXTREME_INSTANTS),
    "recordings since": ("supervisor", "/api/recordings?since={}", EXTREME_INSTANTS),
    "recordings until": ("supervisor", "/api/recordings?until={}", EXTREME_INSTANTS),
    "call report": ("supervisor", "/api/reports/calls?by=day&start={0}&end={0}", EXTREME_DATES),
    "request report": ("supervisor", "/api/reports/requests?start={0}&end={0}", EXTREME_DATES),
    "disclosures start": ("privacy_officer", "/api/disclosures?start={}", EXTREME_DATES),
    "disclosures end": ("privacy_officer", "/api/disclosures?end={}", EXTREME_DATES),
}


@pytest.mark.parametrize("name", sorted(GETS))
def test_extreme_dates_in_staff_listings_are_refused_by_field(
    name: str, client: TestClient, staff: StaffFactory
) -> None:
    role, template, values = GETS[name]
    headers = _headers(staff, role)
    for value in values:
        path = template.format(httpx.QueryParams({"v": value})["v"]).replace("+", "%2B")
        response = client.get(path, headers=headers)
        assert response.status_code == 422, (value, response.text)
        assert "between the years" in response.text


def _appointment_window(value: str) -> dict[str, Any]:
    return {"starts_at": value, "ends_at": "2026-12-01T10:00:00-05:00"}


POSTS: dict[str, tuple[str, str, Callable[[str], dict[str, Any]], tuple[str, ...]]] = {
    "call search": (
        "agent",
        "/api/calls/search",
        lambda v: {"phone": "(302) 555-0133", "since": v},
        EXTREME_INSTANTS,
    ),
    "retention run": ("admin", "/api/retention/run", lambda v: {"as_of": v}, EXTREME_INSTANTS),
    "appointment preview": (
        "agent",
        "/api/appointments/preview",
        lambda v: {"request_id": SR, "location": "Curb at the corner", **_appointment_window(v)},
        (*EXTREME_INSTANTS, *(f"{d}T09:00:00" for d in EXTREME_DATES)),
    ),
    "appointment booking": (
        "agent",
        "/api/appointments",
        lambda v: {
            "request_id": SR,
            "location": "Curb at the corner",
            "phone": "(302) 555-0133",
            "consent": True,
            **_appointment_window(v),
        },
        EXTREME_INSTANTS,
    ),
    "appointment reschedule": (
        "agent",
        "/api/appointments/AP-AAAAA-AAAAA/reschedule",
        _appointment_window,
        EXTREME_INSTANTS,
    ),
    "disclosure": (
        "privacy_officer",
        "/api/disclosures",
        lambda v: {
            "requested_by": "Wilmington Police Department",
            "legal_basis": "law_enforcement",
            "description": "Call log entries",
            "records": [],
            "approved_by": "privacy-officer-dates",
            "disclosed_at": v,
        },
        EXTREME_INSTANTS,
    ),
    "public records": (
        "privacy_officer",
        "/api/disclosures/public-records",
        lambda v: {"start": v, "end": v},
        EXTREME_DATES,
    ),
    "privacy request": (
        "privacy_officer",
        "/api/privacy/requests",
        lambda v: {
            "received_on": v,
            "channel": "mail",
            "kinds": ["access"],
            "identity_evidence": "Signature compared with the form",
        },
        EXTREME_DATES,
    ),
    "privacy acknowledgement": (
        "privacy_officer",
        "/api/privacy/requests/PR-AAAAA-AAAAA/acknowledge",
        lambda v: {"decision_by": v},
        EXTREME_DATES,
    ),
}


@pytest.mark.parametrize("name", sorted(POSTS))
def test_extreme_dates_in_staff_bodies_are_refused_by_field(
    name: str, client: TestClient, staff: StaffFactory
) -> None:
    role, path, body, values = POSTS[name]
    headers = _headers(staff, role)
    for value in values:
        response = client.post(path, json=body(value), headers=headers)
        assert response.status_code == 422, (value, response.text)
        assert "between the years" in response.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_extreme_dates_on_open311_are_a_400_in_its_format(
    client: TestClient, field: str, fmt: str
) -> None:
    for value in EXTREME_INSTANTS:
        response = client.get(f"/open311/v2/requests.{fmt}", params={field: value})
        assert response.status_code == 400, (value, response.text)
        assert field in response.text and "between the years" in response.text
        assert response.headers["content-type"].startswith(
            "application/json" if fmt == "json" else "text/xml"
        )


@pytest.mark.parametrize(
    "stamp", ["Sun, 31 Dec 1899 23:59:59 +0500", "Fri, 31 Dec 9999 23:59:59 -0500"]
)
def test_a_status_webhook_with_an_impossible_timestamp_is_logged_at_its_arrival(
    twilio: TwilioClient, context: AppContext, stamp: str
) -> None:
    """The call's metadata is logged whatever Twilio says (no opt-out), so a timestamp no
    call can have is read like an unreadable one: the time of arrival stands in."""
    sid = call_sid()
    response = twilio.post(
        "/twilio/voice/status", twilio.call_params(sid, "completed", Timestamp=stamp)
    )
    assert response.status_code == 204, response.text
    with context.db() as session:
        call = session.scalar(sa.select(Call).where(Call.call_sid == sid))
    assert call is not None and call.started_at == context.clock.now()


def test_a_recording_with_an_impossible_start_time_gets_its_arrival_time(
    twilio: TwilioClient,
) -> None:
    sid = twilio.ring()
    response = twilio.post(
        "/twilio/recordings",
        {
            "AccountSid": twilio.account_sid,
            "CallSid": sid,
            "RecordingSid": "RE" + "a" * 32,
            "RecordingStatus": "completed",
            "RecordingDuration": "12",
            "RecordingUrl": "https://api.twilio.com/recording",
            "RecordingStartTime": "Fri, 31 Dec 9999 23:59:59 -0500",
        },
    )
    assert response.status_code == 204, response.text


def test_the_range_check_reads_the_year_as_written() -> None:
    assert parse_instant("2026-11-22T09:00:00Z").isoformat() == "2026-11-22T09:00:00+00:00"
    for text in (*EXTREME_INSTANTS, "1899-12-31T23:59:59+00:00", "2026-11-22T09:00:00"):
        with pytest.raises(ValueError):
            parse_instant(text)
    assert within_range(parse_instant("2999-12-31T23:59:59-12:00")).year == 2999
