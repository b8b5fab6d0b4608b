"""The privacy officer logs every disclosure with its legal basis; public-records exports
carry no contact details and no street numbers, and log themselves."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.disclosures.models import Disclosure
from services.disclosures.public_records import without_street_numbers
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.support import JOSE, StaffFactory, TwilioClient, audit_entries, echoed


def disclose(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    body = {
        "requested_by": "Wilmington Police Department, Det. Unit",
        "legal_basis": "law_enforcement",
        "reference": "WPD-2026-0412",
        "description": "Call log entries for one number, 1-15 November",
        "records": [],
        "approved_by": "olga",
        **changes,
    }
    return client.post("/api/disclosures", json=body, headers=headers)


def audit_actions(context: AppContext, action: str) -> list[AuditEntry]:
    return audit_entries(context, AuditEntry.action == action)


def test_a_disclosure_is_logged_with_its_records_and_audited(
    twilio: TwilioClient, officer: dict[str, str], staff: StaffFactory, context: AppContext
) -> None:
    client = twilio.client
    sid = twilio.ring()
    agent = staff.headers("agent", "ana")
    filed = client.post("/api/requests", json={"service_code": "pothole"}, headers=agent).json()
    staff.token("privacy_officer", "pat")
    response = disclose(
        client,
        officer,
        approved_by="pat",
        records=[
            {"type": "call", "id": sid},
            {"type": "request", "id": filed["id"]},
            {"type": "call", "id": sid},
        ],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("DC-") and body["legal_basis"] == "law_enforcement"
    assert body["records"] == [
        {"type": "call", "id": sid, "count": None},
        {"type": "request", "id": filed["id"], "count": None},
    ]
    assert body["record_count"] == 2
    assert body["approved_by"]["username"] == "pat"
    assert body["recorded_by"]["username"] == "olga"
    assert body["disclosed_at"] == "2026-11-18T10:00:00-05:00"
    again = client.get(f"/api/disclosures/{body['id']}", headers=officer)
    assert again.json() == body
    [created] = audit_actions(context, "disclosure.create")
    assert created.object_id == body["id"] and created.actor_name == "olga"
    assert created.detail == {
        "legal_basis": "law_enforcement",
        "records": 2,
        "approved_by_id": body["approved_by"]["id"],
    }
    assert "Wilmington" not in json.dumps(created.detail)
    assert len(audit_actions(context, "disclosure.view")) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"legal_basis": "curiosity"}, "legal_basis"),
        ({"approved_by": "nobody"}, "approved_by"),
        ({"approved_by": "sam"}, "approved_by"),  # a supervisor may not approve
        ({"records": [{"type": "call", "id": "CA" + "0" * 32}]}, "records.0.id"),
        ({"records": [{"type": "request", "id": "SR-22222-22222"}]}, "records.0.id"),
        ({"records": [{"type": "recording", "id": "RE" + "0" * 32}]}, "records.0.id"),
        ({"records": [{"type": "person", "id": "x1"}]}, "records.0.type"),
        ({"description": "gave SSN 219-09-9999 to the court"}, "description"),
        ({"requested_by": ""}, "requested_by"),
        ({"disclosed_at": "2026-12-01T10:00:00Z"}, "disclosed_at"),
    ],
)
def test_bad_disclosures_name_the_field_and_store_nothing(
    client: TestClient,
    officer: dict[str, str],
    staff: StaffFactory,
    context: AppContext,
    changes: dict[str, Any],
    field: str,
) -> None:
    staff.token("supervisor", "sam")
    response = disclose(client, officer, **changes)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert "9999" not in echoed(response)
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count(Disclosure.id))) == 0


def test_the_log_filters_by_basis_and_date_and_pages(
    client: TestClient, officer: dict[str, str], clock: ManualClock
) -> None:
    for _ in range(3):
        assert disclose(client, officer, legal_basis="court_order_or_law").status_code == 201
        clock.advance(timedelta(days=1))
    assert disclose(client, officer).status_code == 201  # law enforcement, 21 November
    page = client.get(
        "/api/disclosures",
        params={"legal_basis": "court_order_or_law", "limit": 2},
        headers=officer,
    ).json()
    assert len(page["items"]) == 2 and page["next_before"] is not None
    assert page["items"][0]["disclosed_at"].startswith("2026-11-20")
    rest = client.get(
        "/api/disclosures",
        params={"legal_basis": "court_order_or_law", "limit": 2, "before": page["next_before"]},
        headers=officer,
    ).json()
    assert [item["disclosed_at"][:10] for item in rest["items"]] == ["2026-11-18"]
    assert rest["next_before"] is None
    on_days = client.get(
        "/api/disclosures", params={"start": "2026-11-19", "end": "2026-11-21"}, headers=officer
    ).json()
    assert [item["legal_basis"] for item in on_days["items"]] == [
        "law_enforcement",
        "court_order_or_law",
        "court_order_or_law",
    ]
    missing = client.get("/api/disclosures/DC-22222-22222", headers=officer)
    assert missing.status_code == 404


def test_only_the_privacy_officer_may_see_or_write_the_log(
    client: TestClient, staff: StaffFactory
) -> None:
    for role in ("agent", "supervisor", "admin"):
        headers = staff.headers(role)
        assert client.get("/api/disclosures", headers=headers).status_code == 403
        assert disclose(client, headers).status_code == 403
        export = client.post(
            "/api/disclosures/public-records",
            json={"start": "2026-11-18", "end": "2026-11-18"},
            headers=headers,
        )
        assert export.status_code == 403


@pytest.mark.parametrize(
    ("address", "location"),
    [
        ("1234 W Main St", "W Main St"),
        ("12-14 Oak Ave", "Oak Ave"),
        ("12A Elm St", "Elm St"),
        ("12 1/2 Elm St", "Elm St"),
        ("1/2 Main St", "Main St"),
        ("400 Market St, Apt. 3", "Market St"),
        ("77 Sunset Blvd #4, Wilmington", "Sunset Blvd, Wilmington"),
        ("Main St & 5th Ave", "Main St & 5th Ave"),
        ("Route 9 at I-95", "Route 9 at I-95"),
        ("12", None),
    ],
)
def test_street_numbers_are_removed(address: str, location: str | None) -> None:
    assert without_street_numbers(address) == location


def test_the_public_records_export_leaves_people_out_and_logs_itself(
    client: TestClient,
    officer: dict[str, str],
    staff: StaffFactory,
    context: AppContext,
    clock: ManualClock,
) -> None:
    agent = staff.headers("agent", "ana")
    filed = []
    for n, body in enumerate(
        [
            {"contact": JOSE, "address": "1234 W Main St", "lat": 39.744712, "long": -75.548391},
            {"contact": JOSE, "address": "12-14 Oak Ave", "description": "José Álvarez says hi"},
            {"anonymous": True, "address": "7 Elm St, Apt 2"},
        ]
    ):
        response = client.post(
            "/api/requests",
            json={"service_code": "pothole", "description": "Call José at home", **body},
            headers=agent,
        )
        assert response.status_code == 201, response.text
        filed.append(response.json()["id"])
        clock.advance(timedelta(hours=n + 1))
    closed = client.post(
        f"/api/requests/{filed[0]}/status", json={"status": "closed"}, headers=agent
    )
    assert closed.status_code == 200
    clock.advance(timedelta(days=3))  # the day after, outside the range
    client.post("/api/requests", json={"service_code": "pothole"}, headers=agent)

    as_csv = client.post(
        "/api/disclosures/public-records",
        json={
            "start": "2026-11-18",
            "end": "2026-11-18",
            "format": "csv",
            "reference": "PRR-2026-77",
        },
        headers=officer,
    )
    assert as_csv.status_code == 200, as_csv.text
    as_json = client.post(
        "/api/disclosures/public-records",
        json={"start": "2026-11-18", "end": "2026-11-18"},
        headers=officer,
    )
    assert as_json.status_code == 200
    for raw in (as_csv.content, as_json.content):
        text = raw.decode()
        for value in (
            "José",
            "Jos\\u00e9",
            "lvarez",
            "Jose",
            "555",
            "0133",
            "xample",
            "North Oak",
            "Call ",
            "says hi",
            "1234",
            "12-14",
            "Apt",
            "7 Elm",
        ):
            assert value.casefold() not in text.casefold(), value

    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["id"] for row in rows] == filed
    assert rows[0] == {
        "id": filed[0],
        "service_code": "pothole",
        "service_name": "Pothole",
        "status": "closed",
        "channel": "phone",
        "created_on": "2026-11-18",
        "closed_on": "2026-11-18",
        "location": "W Main St",
        "lat": "39.745",
        "long": "-75.548",
    }
    assert [row["location"] for row in rows] == ["W Main St", "Oak Ave", "Elm St"]
    document = as_json.json()
    assert document["count"] == 3 and [row["id"] for row in document["rows"]] == filed
    assert document["rows"][1]["closed_on"] is None and document["rows"][1]["lat"] is None

    with context.db() as session:
        logged = session.scalars(sa.select(Disclosure).order_by(Disclosure.id)).all()
    assert len(logged) == 2
    assert logged[0].legal_basis == "public_records_request"
    assert logged[0].records == [{"type": "request", "count": 3}]
    assert logged[0].reference == "PRR-2026-77"
    assert as_csv.headers["x-disclosure-id"] == logged[0].public_id
    assert document["disclosure"] == logged[1].public_id
    audited = audit_actions(context, "disclosure.public_records")
    assert [entry.detail["requests"] for entry in audited] == [3, 3]
    assert {entry.detail["format"] for entry in audited} == {"csv", "json"}
    listed = client.get("/api/disclosures", headers=officer).json()["items"]
    assert listed[0]["records"] == [{"type": "request", "id": None, "count": 3}]
    assert listed[0]["record_count"] == 3


def test_a_large_export_streams_in_batches(
    client: TestClient,
    officer: dict[str, str],
    staff: StaffFactory,
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.disclosures import public_records

    monkeypatch.setattr(public_records, "BATCH", 2)
    agent = staff.headers("agent", "ana")
    for n in range(5):
        client.post(
            "/api/requests", json={"service_code": "pothole", "address": f"{n} Elm"}, headers=agent
        )
    response = client.post(
        "/api/disclosures/public-records",
        json={"start": "2026-11-18", "end": "2026-11-18", "format": "csv"},
        headers=officer,
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 5 and len({row["id"] for row in rows}) == 5


def test_a_get_of_the_export_records_nothing(
    client: TestClient, officer: dict[str, str], context: AppContext
) -> None:
    """A GET may be prefetched, reloaded or crawled: it must not write a disclosure."""
    response = client.get(
        "/api/disclosures/public-records",
        params={"start": "2026-11-18", "end": "2026-11-18"},
        headers=officer,
    )
    assert 400 <= response.status_code < 500  # 405, or no disclosure has that id
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count(Disclosure.id))) == 0
    assert audit_actions(context, "disclosure.public_records") == []


def test_export_ranges_are_checked(client: TestClient, officer: dict[str, str]) -> None:
    response = client.post(
        "/api/disclosures/public-records",
        json={"start": "2025-01-01", "end": "2026-11-18"},
        headers=officer,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "end"


def test_refused_disclosures_and_exports_are_audited_without_their_text(
    client: TestClient, officer: dict[str, str], context: AppContext
) -> None:
    refused = disclose(client, officer, description="gave SSN 219-09-9999 to the court")
    assert refused.status_code == 422
    too_long = client.post(
        "/api/disclosures/public-records",
        json={"start": "2025-01-01", "end": "2026-11-18"},
        headers=officer,
    )
    assert too_long.status_code == 422
    [created] = audit_actions(context, "disclosure.create")
    assert (created.outcome, created.object_id, created.detail) == (
        "invalid",
        None,
        {"status": 422},
    )
    [exported] = audit_actions(context, "disclosure.public_records")
    assert exported.outcome == "invalid" and exported.detail["status"] == 422
    assert "requests" not in exported.detail
