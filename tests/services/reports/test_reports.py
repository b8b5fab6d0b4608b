"""Supervisors watch call volume and handle time; published figures hide small counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from services.calls.models import Call
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.reports import actions as reports
from services.reports.service import DateRange, offset_stretches
from tests.support import StaffFactory, audit_entry, call_sid

NEW_YORK = ZoneInfo("America/New_York")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def _leg(
    context: AppContext,
    *,
    started: datetime,
    answered: datetime | None,
    ended: datetime | None,
    status: str,
    extension: str | None,
    parent: str | None = None,
) -> str:
    sid = call_sid()
    with context.db.begin() as session:
        session.add(
            Call(
                call_sid=sid,
                parent_call_sid=parent,
                direction="outbound-dial" if parent else "inbound",
                caller_withheld=False,
                status=status,
                status_rank=4 if ended is not None else 3,
                status_sequence=0,
                status_at=ended or started,
                extension=extension,
                started_at=started,
                answered_at=answered,
                ended_at=ended,
                duration_seconds=None,
                created_at=started,
                updated_at=started,
            )
        )
    return sid


def add_call(
    context: AppContext,
    started: datetime,
    *,
    extension: str | None = "1",
    answered_after: int | None = 10,
    handled_for: int | None = 120,
    status: str | None = None,
) -> str:
    """A call as the webhooks leave it: the caller's leg, answered by the IVR at once,
    and when a call taker picked up, the department's leg that the dial made."""
    answered = started + timedelta(seconds=answered_after) if answered_after is not None else None
    ended: datetime | None
    if answered is not None:
        ended = answered + timedelta(seconds=handled_for) if handled_for is not None else None
    else:
        ended = started + timedelta(seconds=30)
    final = status or ("completed" if ended is not None else "in-progress")
    sid = _leg(
        context,
        started=started,
        answered=started,
        ended=ended,
        status=final,
        extension=extension,
    )
    if answered is not None:
        _leg(
            context,
            started=started + timedelta(seconds=2),
            answered=answered,
            ended=ended,
            status=final,
            extension=extension,
            parent=sid,
        )
    return sid


def report(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = client.get(f"/api/reports/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json() if params.get("format") != "csv" else response


MONDAY = date(2026, 11, 16)
TUESDAY = date(2026, 11, 17)


@pytest.fixture
def known_calls(context: AppContext) -> None:
    """Monday: five answered at 09:xx on extension 1 (120 s each), two abandoned at 14:xx
    on extension 2. Tuesday: one answered at 09:30 (60 s) with no extension, one still
    ringing at 23:50 local (04:50 UTC on Wednesday). The departments' legs and a call
    outside the range are not counted as calls."""
    for minute in range(5):
        add_call(context, local(MONDAY, 9, minute * 10))
    for minute in (5, 35):
        add_call(
            context,
            local(MONDAY, 14, minute),
            extension="2",
            answered_after=None,
            status="no-answer",
        )
    add_call(context, local(TUESDAY, 9, 30), extension=None, handled_for=60)
    add_call(context, local(TUESDAY, 23, 50), answered_after=None, status="ringing")
    add_call(context, local(MONDAY, 0, 0) - timedelta(seconds=1))  # Sunday, 23:59:59


def rows_by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["key"]: {k: v for k, v in row.items() if k != "key"} for row in body["rows"]}


def test_calls_by_day_hour_and_extension(
    client: TestClient, supervisor: dict[str, str], known_calls: None
) -> None:
    by_day = report(client, supervisor, "calls", start="2026-11-16", end="2026-11-18", by="day")
    assert by_day["published"] is False and by_day["suppressed_below"] is None
    assert rows_by_key(by_day) == {
        "2026-11-16": {"calls": 7, "answered": 5, "abandoned": 2, "avg_handle_seconds": 120.0},
        "2026-11-17": {"calls": 2, "answered": 1, "abandoned": 0, "avg_handle_seconds": 60.0},
        "2026-11-18": {"calls": 0, "answered": 0, "abandoned": 0, "avg_handle_seconds": None},
    }
    by_hour = rows_by_key(
        report(client, supervisor, "calls", start="2026-11-16", end="2026-11-17", by="hour")
    )
    assert list(by_hour) == [f"{hour:02d}" for hour in range(24)]
    assert by_hour["09"] == {"calls": 6, "answered": 6, "abandoned": 0, "avg_handle_seconds": 110.0}
    assert by_hour["14"]["calls"] == 2 and by_hour["14"]["abandoned"] == 2
    assert by_hour["23"]["calls"] == 1 and by_hour["00"]["calls"] == 0
    assert sum(row["calls"] for row in by_hour.values()) == 9
    by_extension = rows_by_key(
        report(client, supervisor, "calls", start="2026-11-16", end="2026-11-17", by="extension")
    )
    assert by_extension == {
        "1": {"calls": 6, "answered": 5, "abandoned": 0, "avg_handle_seconds": 120.0},
        "2": {"calls": 2, "answered": 0, "abandoned": 2, "avg_handle_seconds": None},
        "none": {"calls": 1, "answered": 1, "abandoned": 0, "avg_handle_seconds": 60.0},
    }


def test_published_reports_withhold_small_cells(
    client: TestClient, supervisor: dict[str, str], known_calls: None
) -> None:
    body = report(
        client, supervisor, "calls", start="2026-11-16", end="2026-11-18", by="day", published=True
    )
    assert body["published"] is True and body["suppressed_below"] == 5
    assert rows_by_key(body) == {
        # 2 abandoned is withheld, and so is the 5 answered that would give it away (7 - 5).
        "2026-11-16": {
            "calls": 7,
            "answered": None,
            "abandoned": None,
            "avg_handle_seconds": 120.0,
        },
        "2026-11-17": {"calls": None, "answered": None, "abandoned": 0, "avg_handle_seconds": None},
        "2026-11-18": {"calls": 0, "answered": 0, "abandoned": 0, "avg_handle_seconds": None},
    }
    by_extension = rows_by_key(
        report(
            client,
            supervisor,
            "calls",
            start="2026-11-16",
            end="2026-11-17",
            by="extension",
            published="true",
        )
    )
    assert by_extension["1"] == {
        "calls": 6,
        "answered": 5,
        "abandoned": 0,
        "avg_handle_seconds": 120.0,
    }
    assert by_extension["none"] == {
        "calls": None,
        "answered": None,
        "abandoned": 0,
        "avg_handle_seconds": None,
    }


def test_csv_has_a_header_and_the_same_rows(
    client: TestClient, supervisor: dict[str, str], known_calls: None
) -> None:
    response = report(
        client,
        supervisor,
        "calls",
        start="2026-11-16",
        end="2026-11-17",
        by="day",
        published=True,
        format="csv",
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["key", "calls", "answered", "abandoned", "avg_handle_seconds"]
    assert rows[0] == {
        "key": "2026-11-16",
        "calls": "7",
        "answered": "",
        "abandoned": "",
        "avg_handle_seconds": "120.0",
    }
    assert rows[1]["key"] == "2026-11-17" and rows[1]["calls"] == ""


def test_requests_by_service_and_status(
    client: TestClient, supervisor: dict[str, str], staff: StaffFactory
) -> None:
    agent = staff.headers("agent", "ana")
    for n in range(6):
        body: dict[str, Any] = {"service_code": "pothole", "address": f"{n} Main St"}
        if n == 0:
            body["anonymous"] = True
        assert client.post("/api/requests", json=body, headers=agent).status_code == 201
    filed = client.post("/api/requests", json={"service_code": "missed-trash"}, headers=agent)
    closed = client.post(
        f"/api/requests/{filed.json()['id']}/status",
        json={"status": "closed", "note": "picked up"},
        headers=agent,
    )
    assert closed.status_code == 200, closed.text
    internal = report(client, supervisor, "requests", start="2026-11-18", end="2026-11-18")
    counts = {(row["service_code"], row["status"]): row["count"] for row in internal["rows"]}
    assert counts == {("pothole", "open"): 6, ("missed-trash", "closed"): 1}
    names = {row["service_code"]: row["service_name"] for row in internal["rows"]}
    assert names == {"pothole": "Pothole", "missed-trash": "Missed trash or recycling"}
    published = report(
        client, supervisor, "requests", start="2026-11-18", end="2026-11-18", published=True
    )
    counts = {(row["service_code"], row["status"]): row["count"] for row in published["rows"]}
    assert counts == {("pothole", "open"): 6, ("missed-trash", "closed"): None}
    text = report(
        client, supervisor, "requests", start="2026-11-18", end="2026-11-18", format="csv"
    ).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["count"] for row in rows] == ["1", "6"]
    assert list(rows[0]) == ["service_code", "service_name", "status", "count"]
    none = report(client, supervisor, "requests", start="2026-11-19", end="2026-11-19")
    assert none["rows"] == []


def test_reads_are_audited_without_personal_data(
    client: TestClient, supervisor: dict[str, str], context: AppContext, known_calls: None
) -> None:
    report(client, supervisor, "calls", start="2026-11-16", end="2026-11-17", by="hour")
    entry = audit_entry(context, AuditEntry.action == "report.read")
    assert entry.actor_name == "sam" and entry.object_id == "calls"
    assert entry.detail == {
        "start": "2026-11-16",
        "end": "2026-11-17",
        "published": False,
        "format": "json",
        "rows": 24,
        "by": "hour",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-11-17", "end": "2026-11-16", "by": "day"}, "end"),
        ({"start": "2025-01-01", "end": "2026-01-02", "by": "day"}, "end"),
        ({"start": "2026-11-16", "end": "2026-11-17", "by": "week"}, "by"),
        ({"start": "16/11/2026", "end": "2026-11-17", "by": "day"}, "start"),
    ],
)
def test_bad_ranges_are_refused_clearly(
    client: TestClient, supervisor: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = client.get("/api/reports/calls", params=params, headers=supervisor)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_a_refused_range_is_audited_as_invalid(
    client: TestClient, supervisor: dict[str, str], context: AppContext
) -> None:
    params = {"start": "2026-11-17", "end": "2026-11-16", "by": "day"}
    response = client.get("/api/reports/calls", params=params, headers=supervisor)
    assert response.status_code == 422
    entry = audit_entry(context, AuditEntry.request_id == response.json()["request_id"])
    assert (entry.action, entry.outcome, entry.object_id) == ("report.read", "invalid", "calls")
    assert entry.detail == {
        "start": "2026-11-17",
        "end": "2026-11-16",
        "published": False,
        "format": "json",
        "status": 422,
    }


def test_the_dashboard_reads_through_an_audited_action(
    context: AppContext, known_calls: None
) -> None:
    sam = Actor(user_id=None, username="sam", role="supervisor", request_id="dash-1")
    rows = reports.call_dashboard(context, sam, DateRange(MONDAY, TUESDAY), by="day")
    assert [(row.key, row.calls) for row in rows] == [("2026-11-16", 7), ("2026-11-17", 2)]
    entry = audit_entry(context, AuditEntry.request_id == "dash-1")
    assert (entry.action, entry.outcome, entry.object_type) == ("reports.calls", "ok", "report")
    assert entry.detail == {"by": "day", "start": "2026-11-16", "end": "2026-11-17"}


def test_agents_may_not_read_reports(client: TestClient, staff: StaffFactory) -> None:
    agent = staff.headers("agent", "ana")
    for path in ("calls?by=day&", "requests?"):
        response = client.get(f"/api/reports/{path}start=2026-11-16&end=2026-11-16", headers=agent)
        assert response.status_code == 403


def test_days_follow_the_city_clock_across_daylight_saving(
    client: TestClient, supervisor: dict[str, str], context: AppContext
) -> None:
    fall_back = date(2026, 11, 1)  # 25 hours long in New York
    add_call(context, local(fall_back, 0, 30))
    add_call(context, datetime(2026, 11, 1, 5, 30, tzinfo=UTC))  # 01:30 EDT
    add_call(context, datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # 01:30 EST
    add_call(context, local(fall_back, 23, 59))
    add_call(context, local(date(2026, 11, 2), 0, 0))
    by_day = rows_by_key(
        report(client, supervisor, "calls", start="2026-11-01", end="2026-11-02", by="day")
    )
    assert by_day["2026-11-01"]["calls"] == 4 and by_day["2026-11-02"]["calls"] == 1
    by_hour = rows_by_key(
        report(client, supervisor, "calls", start="2026-11-01", end="2026-11-01", by="hour")
    )
    assert by_hour["01"]["calls"] == 2 and by_hour["00"]["calls"] == 1
    assert by_hour["23"]["calls"] == 1


def test_offset_stretches_cut_at_each_change() -> None:
    start, end = DateRange(date(2026, 1, 1), date(2026, 12, 31)).utc_bounds(NEW_YORK)
    stretches = offset_stretches(start, end, NEW_YORK)
    assert [offset for _, _, offset in stretches] == [-18000, -14400, -18000]
    assert stretches[1][0] == datetime(2026, 3, 8, 7, tzinfo=UTC)
    assert stretches[2][0] == datetime(2026, 11, 1, 6, tzinfo=UTC)
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # changes by half an hour, off the hour
    start, end = DateRange(date(2026, 10, 1), date(2026, 10, 31)).utc_bounds(lord_howe)
    assert offset_stretches(start, end, lord_howe)[1][0] == datetime(
        2026, 10, 3, 15, 30, tzinfo=UTC
    )
