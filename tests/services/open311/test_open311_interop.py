"""Open311 as the civic apps that were tried against it (georeport, civicbot, three,
open311, FixMyStreet) read and write it: every XML answer parses, every JSON answer
meets the GeoReport v2 schemas (tests/services/open311/georeport_schemas.py), errors
come in its format whatever their cause, and mySociety's servicerequestupdates works."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.settings import Settings
from services.requests import service as requests_service
from services.requests.models import ServiceRequest
from services.requests.service import DuplicatePolicy, NewRequest
from tests.services.open311.georeport_schemas import BY_ENDPOINT
from tests.support import StaffFactory, make_settings

BASE = "/open311/v2"
XML_ROOTS = {
    "discovery": "discovery",
    "services": "services",
    "service_definition": "service_definition",
    "requests": "service_requests",
    "receipt": "service_requests",
    "tokens": "service_requests",
    "servicerequestupdates": "service_request_updates",
    "errors": "errors",
}


@dataclass
class Open311:
    """A civic app's view: each answer checked the way a strict client would read it."""

    client: TestClient

    def check(self, response: httpx.Response, fmt: str, kind: str) -> Any:
        if response.status_code >= 400:
            kind = "errors"
        if fmt == "xml":
            assert response.headers["content-type"].startswith("text/xml"), response.text
            root = ET.fromstring(response.content)  # fails on any character XML refuses
            assert root.tag == XML_ROOTS[kind], response.text
            return root
        assert response.headers["content-type"].startswith("application/json"), response.text
        body = response.json()
        jsonschema.validate(body, BY_ENDPOINT[kind])
        return body

    def get(self, path: str, fmt: str, kind: str, **params: Any) -> Any:
        response = self.client.get(f"{BASE}/{path}.{fmt}", params=params)
        assert response.status_code == (404 if kind == "errors" else 200), response.text
        return self.check(response, fmt, kind)

    def post(self, fmt: str, *, query: dict[str, str] | None = None, **form: str) -> Any:
        response = self.client.post(f"{BASE}/requests.{fmt}", data=form, params=query)
        return response, self.check(response, fmt, "receipt")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Clients read descriptions as filed here (PUBLIC_TEXT=filtered); the default,
    "reviewed", publishes only what staff reviewed (tests/services/open311/test_public_text.py)."""
    return make_settings(database_url, tmp_path / "var", public_text="filtered")


@pytest.fixture
def open311(client: TestClient) -> Open311:
    return Open311(client)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_read_meets_the_schemas_and_parses(
    open311: Open311, api_key: str, fmt: str, staff: StaffFactory
) -> None:
    response, receipt = open311.post(
        "json",
        api_key=api_key,
        service_code="pothole",
        address_string="Oak St and 5th",
        description="Deep hole",
        media_url="https://photos.example.org/p/123.jpg",
    )
    assert response.status_code == 201
    number, token = receipt[0]["service_request_id"], receipt[0]["token"]
    open311.get("discovery", fmt, "discovery")
    open311.get("services", fmt, "services")
    open311.get("services/pothole", fmt, "service_definition")
    open311.get("requests", fmt, "requests")
    open311.get(f"requests/{number}", fmt, "requests")
    open311.get(f"tokens/{token}", fmt, "tokens")
    open311.get("servicerequestupdates", fmt, "servicerequestupdates")
    open311.get("requests/SR-00000-00000", fmt, "errors")


def test_control_characters_never_reach_the_xml(
    open311: Open311, api_key: str, client: TestClient, staff: StaffFactory
) -> None:
    """One BEL typed into a description made every XML feed unreadable."""
    response, _ = open311.post(
        "json",
        api_key=api_key,
        service_code="graffiti",
        address_string="Elm St\x1b[31m",
        description="Tag on the wall\x07 near the \x0bdoor",
    )
    assert response.status_code == 201
    admin = staff.headers("admin", "root")
    added = client.post(
        "/api/services",
        json={
            "code": "bell",
            "name": "Bell\x07 tower",
            "description": "Rings\x08 too much",
            "department": "Parks",
            "group": "Neighborhood",
            "keywords": ["bell"],
        },
        headers=admin,
    )
    assert added.status_code in (201, 422), added.text
    requests_xml = open311.get("requests", "xml", "requests")
    description = requests_xml.findtext("request/description")
    assert description is not None and "Tag on the wall" in description
    assert "\x07" not in description and "\x0b" not in description
    open311.get("services", "xml", "services")
    open311.get("requests", "json", "requests")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_nul_character_is_refused_before_anything_is_stored(
    open311: Open311, api_key: str, context: AppContext, fmt: str
) -> None:
    """PostgreSQL cannot store a NUL in text at all: it is refused at the door (400, in
    Open311's format here), on SQLite too, rather than failing mid-transaction."""
    response, body = open311.post(
        fmt, api_key=api_key, service_code="pothole", address_id="A1", description="x\x00y"
    )
    assert response.status_code == 400
    description = body[0]["description"] if fmt == "json" else body.findtext("error/description")
    assert description == "Text may not contain NUL characters."
    assert client_requests(context) == 0
    listed = open311.client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": "\x00"})
    assert listed.status_code == 400
    open311.check(listed, fmt, "errors")


def client_requests(context: AppContext) -> int:
    with context.db() as session:
        return session.scalar(sa.select(sa.func.count(ServiceRequest.id))) or 0


def test_a_query_without_page_size_answers_up_to_a_thousand_as_discovery_says(
    open311: Open311, context: AppContext
) -> None:
    with context.db.begin() as session:
        for n in range(150):
            requests_service.create_request(
                session,
                context.keyring,
                NewRequest(service_code="pothole", address=f"Block {n}", channel="open311"),
                filed_by=None,
                now=context.clock.now() - timedelta(minutes=n),
                region=context.region,
                duplicates=DuplicatePolicy(radius_meters=0, window=timedelta(0)),
            )
    assert len(open311.get("requests", "json", "requests")) == 150
    assert len(open311.get("requests", "xml", "requests").findall("request")) == 150
    assert len(open311.get("requests", "json", "requests", page_size="40", page="4")) == 30
    endpoint = open311.get("discovery", "json", "discovery")["endpoints"][0]
    assert endpoint["max_requests"] == 1000
    root = open311.get("discovery", "xml", "discovery")
    assert root.findtext("endpoints/endpoint/max_requests") == "1000"


def test_a_submission_as_clients_send_it(
    open311: Open311, api_key: str, client: TestClient
) -> None:
    # The key in the query string, a location by address_id only, and a photo.
    response, receipt = open311.post(
        "xml",
        query={"api_key": api_key},
        service_code="streetlight",
        address_id="ADDR-000123",
        media_url="https://photos.example.org/p/9.jpg",
    )
    assert response.status_code == 201, response.text
    number = receipt.findtext("request/service_request_id")
    [filed] = open311.get(f"requests/{number}", "json", "requests")
    assert filed["address_id"] == "ADDR-000123"
    assert filed["media_url"] == "https://photos.example.org/p/9.jpg"
    root = open311.get(f"requests/{number}", "xml", "requests")
    assert root.findtext("request/media_url") == "https://photos.example.org/p/9.jpg"
    # A service that is not offered is not found, in either format.
    for fmt in ("json", "xml"):
        unknown, body = open311.post(
            fmt, api_key=api_key, service_code="unicorn", address_string="1 Main St"
        )
        assert unknown.status_code == 404
        code = body[0]["code"] if fmt == "json" else int(body.findtext("error/code"))
        assert code == 404
    for bad in ("javascript:alert(1)", "ftp://x.example/p", "https://" + "x" * 2100):
        refused, body = open311.post(
            "json", api_key=api_key, service_code="pothole", address_id="A1", media_url=bad
        )
        assert refused.status_code == 400 and "media_url" in body[0]["description"]
    too_long, body = open311.post(
        "json", api_key=api_key, service_code="pothole", address_string="Elm St " * 40
    )
    assert too_long.status_code == 400 and "address" in body[0]["description"]
    nowhere, body = open311.post("json", api_key=api_key, service_code="pothole")
    assert nowhere.status_code == 400 and "address_id" in body[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_of_every_cause_come_in_the_format_asked(
    open311: Open311, client: TestClient, fmt: str
) -> None:
    unknown = client.get(f"{BASE}/nothing-here.{fmt}")
    assert unknown.status_code == 404
    open311.check(unknown, fmt, "errors")
    wrong_method = client.delete(f"{BASE}/requests.{fmt}")
    assert wrong_method.status_code == 405
    open311.check(wrong_method, fmt, "errors")
    too_large = client.post(
        f"{BASE}/requests.{fmt}",
        content=b"description=" + b"x" * 2_000_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert too_large.status_code == 413
    open311.check(too_large, fmt, "errors")
    statuses = [
        client.post(f"{BASE}/requests.{fmt}", data={"service_code": "pothole"}).status_code
        for _ in range(31)
    ]
    assert statuses[-1] == 429, statuses
    limited = client.post(f"{BASE}/requests.{fmt}", data={"service_code": "pothole"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    body = open311.check(limited, fmt, "errors")
    code = body[0]["code"] if fmt == "json" else int(body.findtext("error/code"))
    assert code == 429


def test_the_changeset_moves_when_the_catalogue_changes(
    open311: Open311, client: TestClient, staff: StaffFactory, clock: ManualClock
) -> None:
    before = open311.get("discovery", "json", "discovery")["changeset"]
    clock.advance(timedelta(days=10))
    admin = staff.headers("admin", "root")
    changed = client.patch(
        "/api/services/pothole", json={"name": "Pothole or sinkhole"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    after = open311.get("discovery", "json", "discovery")
    assert after["changeset"] > before
    assert after["endpoints"][0]["changeset"] == after["changeset"]
    services = open311.get("services", "json", "services")
    assert any(s["service_name"] == "Pothole or sinkhole" for s in services)


def test_anyone_may_read_from_a_web_page_but_not_post(client: TestClient, api_key: str) -> None:
    for path in ("discovery.json", "services.xml", "requests.json", "servicerequestupdates.xml"):
        response = client.get(f"{BASE}/{path}", headers={"Origin": "https://app.example.org"})
        assert response.headers["access-control-allow-origin"] == "*", path
    posted = client.post(
        f"{BASE}/requests.json",
        data={"api_key": api_key, "service_code": "pothole", "address_id": "A1"},
        headers={"Origin": "https://app.example.org"},
    )
    assert posted.status_code == 201 and "access-control-allow-origin" not in posted.headers


def test_times_are_to_the_second_and_anonymous_ones_move_forward_on_change(
    open311: Open311, api_key: str, client: TestClient, clock: ManualClock, staff: StaffFactory
) -> None:
    clock.set(clock.now() + timedelta(minutes=7, seconds=3, microseconds=123456))
    _, named = open311.post(
        "json", api_key=api_key, service_code="pothole", address_id="A1", email="a@example.org"
    )
    _, anonymous = open311.post("json", api_key=api_key, service_code="pothole", address_id="A2")
    [kept] = open311.get(f"requests/{named[0]['service_request_id']}", "json", "requests")
    assert kept["requested_datetime"] == "2026-11-18T10:07:03-05:00"
    number = anonymous[0]["service_request_id"]
    [first] = open311.get(f"requests/{number}", "json", "requests")
    # Filed anonymously: the hour it was filed in, not the minute.
    assert first["requested_datetime"] == first["updated_datetime"] == "2026-11-18T10:00:00-05:00"
    clock.advance(timedelta(minutes=5))
    agent = staff.headers("agent", "ana")
    moved = client.post(
        f"/api/requests/{number}/status",
        json={"status": "in_progress", "note": "Crew sent", "public": True},
        headers=agent,
    )
    assert moved.status_code == 200, moved.text
    [then] = open311.get(f"requests/{number}", "json", "requests")
    assert then["updated_datetime"] > first["updated_datetime"]
    # A client that polls every hour, last at 10:12, finds it at its next poll.
    clock.advance(timedelta(hours=1))
    updates = open311.get(
        "servicerequestupdates", "json", "servicerequestupdates", start_date="2026-11-18T15:12:00Z"
    )
    assert [u["service_request_id"] for u in updates] == [number]
    assert updates[0]["updated_datetime"] == "2026-11-18T11:00:00-05:00"


def test_service_request_updates_for_fixmystreet(
    open311: Open311, api_key: str, client: TestClient, clock: ManualClock, staff: StaffFactory
) -> None:
    _, receipt = open311.post(
        "json", api_key=api_key, service_code="pothole", address_id="A1", email="a@example.org"
    )
    number = receipt[0]["service_request_id"]
    agent = staff.headers("agent", "ana")
    for status, note, public in (
        ("in_progress", "Crew booked for Tuesday", True),
        ("in_progress", "Caller's neighbour is difficult", False),
        ("closed", "Filled", True),
    ):
        clock.advance(timedelta(minutes=10))
        changed = client.post(
            f"/api/requests/{number}/status",
            json={"status": status, "note": note, "public": public},
            headers=agent,
        )
        assert changed.status_code == 200, changed.text
    updates = open311.get("servicerequestupdates", "json", "servicerequestupdates")
    assert [(u["status"], u["description"]) for u in updates] == [
        ("in_progress", "Crew booked for Tuesday"),
        ("in_progress", ""),
        ("closed", "Filled"),
    ]
    assert all(u["service_request_id"] == number for u in updates)
    assert len({u["update_id"] for u in updates}) == 3
    root = open311.get("servicerequestupdates", "xml", "servicerequestupdates")
    assert [u.findtext("status") for u in root.findall("request_update")] == [
        "in_progress",
        "in_progress",
        "closed",
    ]
    later = open311.get(
        "servicerequestupdates",
        "json",
        "servicerequestupdates",
        start_date=updates[2]["updated_datetime"],
    )
    assert [u["update_id"] for u in later] == [updates[2]["update_id"]]
    bad = client.get(
        f"{BASE}/servicerequestupdates.json", params={"end_date": "9999-12-31T23:59:59-05:00"}
    )
    assert bad.status_code == 400
