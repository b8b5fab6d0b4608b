"""Open311 GeoReport v2 as a civic app uses it: JSON and XML, its own error format, no
personal data in anything public."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.open311 import actions
from services.open311 import api_keys as keys
from services.platform import audit
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.errors import NotFound
from services.platform.models import AuditEntry
from services.platform.settings import Settings
from tests.support import StaffFactory, audit_entries, make_settings

BASE = "/open311/v2"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """These tests read the filter's work on descriptions as they are filed, so the feed
    publishes filtered descriptions (PUBLIC_TEXT=filtered, not the default "reviewed";
    tests/services/open311/test_public_text.py covers the modes)."""
    return make_settings(database_url, tmp_path / "var", public_text="filtered")


def submit(client: TestClient, fmt: str = "json", **form: str) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data=form)


def test_discovery_and_services_in_both_formats(client: TestClient) -> None:
    discovery = client.get(f"{BASE}/discovery.json").json()
    assert discovery["endpoints"][0]["url"] == "https://311.example.gov/open311/v2"
    xml = ET.fromstring(client.get(f"{BASE}/discovery.xml").content)
    assert xml.tag == "discovery" and xml.find("endpoints/endpoint/url") is not None
    services = client.get(f"{BASE}/services.json").json()
    pothole = next(s for s in services if s["service_code"] == "pothole")
    assert pothole["metadata"] is False and pothole["type"] == "realtime"
    root = ET.fromstring(client.get(f"{BASE}/services.xml").content)
    assert root.tag == "services" and root.find("service/service_code") is not None
    assert client.get(f"{BASE}/services/pothole.json").json() == {
        "service_code": "pothole",
        "attributes": [],
    }


def test_errors_come_in_the_specifications_format(client: TestClient, api_key: str) -> None:
    missing_key = submit(client, service_code="pothole", lat="39.74", long="-75.54")
    assert missing_key.status_code == 403
    assert missing_key.json() == [
        {"code": 403, "description": "api_key is missing, unknown or revoked"}
    ]
    no_place = submit(client, api_key=api_key, service_code="pothole")
    assert no_place.status_code == 400 and "location" in no_place.json()[0]["description"]
    bad_service = submit(
        client, "xml", api_key=api_key, service_code="unicorn", address_string="1 Main St"
    )
    root = ET.fromstring(bad_service.content)
    assert bad_service.status_code == 404 and root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert client.get(f"{BASE}/services/unicorn.json").json()[0]["code"] == 404
    assert client.get(f"{BASE}/requests.yaml").status_code == 404
    assert (
        client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}).status_code == 400
    )


def test_a_submission_with_contact_keeps_it_private(
    client: TestClient, api_key: str, staff: StaffFactory
) -> None:
    filed = submit(
        client,
        api_key=api_key,
        service_code="graffiti",
        address_string="22 Elm St",
        description="Tagging on the wall; call Bartholomew at 302-555-0147 or bart@example.org",
        first_name="Bartholomew",
        last_name="Ngata",
        phone="302-555-0147",
        email="bart@example.org",
    )
    assert filed.status_code == 201
    (answer,) = filed.json()
    request_id, token = answer["service_request_id"], answer["token"]
    public = client.get(f"{BASE}/requests/{request_id}.json").text
    for secret in ("Bartholomew", "Ngata", "555-0147", "bart@example.org"):
        assert secret not in public
    assert "Tagging on the wall" in public
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": request_id, "token": token}
    ]
    staff_view = client.get(f"/api/requests/{request_id}", headers=staff.headers("agent")).json()
    assert (
        staff_view["contact"]["name"] == "Bartholomew Ngata" and staff_view["channel"] == "open311"
    )


def test_a_submission_without_contact_is_anonymous_and_its_ssn_redacted(
    client: TestClient, api_key: str, context: AppContext
) -> None:
    filed = submit(
        client,
        api_key=api_key,
        service_code="pothole",
        lat="39.7447",
        long="-75.5484",
        description="Huge hole. My SSN is 219-09-9999 if you need it",
    )
    request_id = filed.json()[0]["service_request_id"]
    detail = client.get(f"{BASE}/requests/{request_id}.json").json()[0]
    assert "219-09-9999" not in detail["description"] and "Huge hole" in detail["description"]
    with context.db() as session:
        stored = session.execute(
            sa.text("SELECT anonymous, description FROM service_requests")
        ).one()
    assert bool(stored[0]) is True and "219-09-9999" not in stored[1]


def test_listing_filters_by_status_service_and_date(
    client: TestClient, api_key: str, staff: StaffFactory, clock: ManualClock
) -> None:
    first = submit(
        client, api_key=api_key, service_code="pothole", address_string="1 Main St"
    ).json()[0]["service_request_id"]
    clock.advance(timedelta(days=2))
    second = submit(
        client, api_key=api_key, service_code="graffiti", address_string="2 Main St"
    ).json()[0]["service_request_id"]
    client.post(
        f"/api/requests/{first}/status",
        json={"status": "closed", "note": "Patched", "public": True},
        headers=staff.headers("agent"),
    )
    everything = [item["service_request_id"] for item in client.get(f"{BASE}/requests.json").json()]
    assert everything == [second, first]
    closed = client.get(f"{BASE}/requests.json", params={"status": "closed"}).json()
    assert [
        (item["service_request_id"], item["status"], item["status_notes"]) for item in closed
    ] == [(first, "closed", "Patched")]
    assert [
        i["service_request_id"]
        for i in client.get(f"{BASE}/requests.json", params={"service_code": "graffiti"}).json()
    ] == [second]
    since = (clock.now() - timedelta(days=1)).isoformat()
    assert [
        i["service_request_id"]
        for i in client.get(f"{BASE}/requests.json", params={"start_date": since}).json()
    ] == [second]
    both = client.get(
        f"{BASE}/requests.json", params={"service_request_id": f"{first},{second}"}
    ).json()
    assert {item["service_request_id"] for item in both} == {first, second}
    assert (
        client.get(f"{BASE}/requests.json", params={"page_size": "1", "page": "2"}).json()[0][
            "service_request_id"
        ]
        == first
    )
    item = client.get(f"{BASE}/requests/{second}.xml")
    root = ET.fromstring(item.content)
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == second
    assert root.findtext("request/requested_datetime", "").endswith("-05:00")


def test_a_revoked_key_is_refused(client: TestClient, api_key: str, context: AppContext) -> None:
    with context.db.begin() as session:
        (row,) = keys.list_keys(session)
        keys.revoke_key(session, key_id=row.id, now=context.clock.now())
    assert (
        submit(
            client, api_key=api_key, service_code="pothole", address_string="1 Main St"
        ).status_code
        == 403
    )


def test_a_submission_is_audited_with_the_apps_key_as_actor(
    client: TestClient, api_key: str, context: AppContext
) -> None:
    with context.db() as session:
        (row,) = keys.list_keys(session)
    filed = submit(client, api_key=api_key, service_code="pothole", address_string="1 Main St")
    assert filed.status_code == 201
    refused = submit(client, api_key=api_key, service_code="unicorn", address_string="1 Main St")
    assert refused.status_code == 404
    assert refused.json() == [{"code": 404, "description": "service_code not found"}]
    trail = audit_entries(context, AuditEntry.action == "request.create")
    assert [(entry.actor_name, entry.outcome) for entry in trail] == [
        (f"open311-key-{row.id}", "ok"),
        (f"open311-key-{row.id}", "invalid"),
    ]
    # Anonymous: the request is not named, as a call taker's anonymous filing is not.
    assert trail[0].object_id is None and trail[0].actor_id is None
    assert trail[0].detail["channel"] == "open311" and trail[0].detail["anonymous"] is True


def test_keys_are_issued_and_revoked_through_audited_actions(context: AppContext) -> None:
    issued = actions.issue_key(context, audit.SYSTEM, name="Civic app", via="cli")
    assert issued.key.startswith(keys.KEY_PREFIX)
    assert [(key.id, key.name, key.revoked) for key in actions.list_keys(context)] == [
        (issued.id, "Civic app", False)
    ]
    actions.revoke_key(context, audit.SYSTEM, issued.id, via="cli")
    with pytest.raises(NotFound):
        actions.revoke_key(context, audit.SYSTEM, issued.id + 1, via="cli")
    assert actions.list_keys(context)[0].revoked
    trail = audit_entries(context, AuditEntry.actor_name == "system")
    assert [(entry.action, entry.outcome, entry.object_id) for entry in trail] == [
        ("config.open311_key_issue", "ok", str(issued.id)),
        ("config.open311_key_revoke", "ok", str(issued.id)),
        ("config.open311_key_revoke", "not_found", str(issued.id + 1)),
    ]
