"""What the public Open311 feed carries of free text: notes only when staff publish
them, descriptions as PUBLIC_TEXT says (reviewed by default), everything through the
personal-data filter, in JSON, XML and lists alike."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.context import AppContext
from tests.support import StaffFactory, filed_request, served

BASE = "/open311/v2"
# Everything a careless note could say about the caller.
CALLER = ("Bartholomew", "Ngata", "302-555-0147", "bart@example.org", "1234 Oak", "Apt 3B")
NOTE = (
    "Spoke to Bartholomew Ngata, 302-555-0147, bart@example.org, "
    "he lives at 1234 Oak St Apt 3B. Crew sent."
)


def file(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    request_id: str = filed_request(client, headers, service_code="pothole", **body)["id"]
    return request_id


def note(
    client: TestClient, headers: dict[str, str], request_id: str, text: str, **more: Any
) -> Any:
    response = client.post(
        f"/api/requests/{request_id}/status",
        json={"status": "in_progress", "note": text, **more},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def public_texts(client: TestClient, request_id: str) -> list[str]:
    """The request as the public reads it: JSON, XML, and the lists in both formats."""
    found = []
    for fmt in ("json", "xml"):
        single = client.get(f"{BASE}/requests/{request_id}.{fmt}")
        listed = client.get(f"{BASE}/requests.{fmt}")
        assert single.status_code == listed.status_code == 200
        if fmt == "xml":
            ET.fromstring(single.content)
            ET.fromstring(listed.content)
        found += [single.text, listed.text]
    return found


def only(client: TestClient, request_id: str) -> dict[str, Any]:
    (item,) = client.get(f"{BASE}/requests/{request_id}.json").json()
    return dict(item)


@pytest.mark.parametrize("anonymous", [False, True])
def test_a_note_is_private_until_published_and_then_filtered(
    client: TestClient, agent: dict[str, str], anonymous: bool
) -> None:
    contact = None if anonymous else {"name": "Bartholomew Ngata", "phone": "302-555-0147"}
    request_id = file(client, agent, anonymous=anonymous, contact=contact, address="Oak St")
    note(client, agent, request_id, NOTE)
    for text in public_texts(client, request_id):
        assert "Crew sent" not in text and "Bartholomew" not in text
    assert only(client, request_id)["status_notes"] is None

    note(client, agent, request_id, NOTE, public=True)
    for text in public_texts(client, request_id):
        assert "Crew sent." in text
        for secret in CALLER:
            assert secret not in text
    assert only(client, request_id)["status_notes"].endswith("Crew sent.")


def test_the_console_asks_before_a_note_is_published(
    client: TestClient, agent: dict[str, str]
) -> None:
    script = client.get("/static/search.js").text
    assert "public Open311 feed" in script and "body.public = publish.checked" in script


def test_descriptions_are_published_only_after_review_by_default(
    client: TestClient, agent: dict[str, str]
) -> None:
    request_id = file(
        client,
        agent,
        description="Deep pothole; my name is Bartholomew Ngata, call 302-555-0147",
        contact={"name": "Bartholomew Ngata"},
    )
    assert only(client, request_id)["description"] == ""
    reviewed = client.put(
        f"/api/requests/{request_id}/public-description",
        json={"text": "Deep pothole reported by Bartholomew, 302-555-0147"},
        headers=agent,
    )
    assert reviewed.status_code == 200
    assert reviewed.json()["public_description"].startswith("Deep pothole reported")
    published = only(client, request_id)["description"]
    assert published.startswith("Deep pothole reported by [name removed]")
    for secret in ("Bartholomew", "555-0147"):
        assert secret not in published
    refused = client.put(
        f"/api/requests/{request_id}/public-description",
        json={"text": "SSN 219-09-9999"},
        headers=agent,
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "text"
    withdrawn = client.put(
        f"/api/requests/{request_id}/public-description", json={"text": None}, headers=agent
    )
    assert withdrawn.json()["public_description"] is None
    assert only(client, request_id)["description"] == ""


@pytest.mark.parametrize(
    ("mode", "description", "notes"),
    [
        ("none", "", None),
        (
            "filtered",
            "Hole by [house number removed] Oak St, ask Mrs. [name removed]",
            "Crew sent.",
        ),
        ("reviewed", "", "Crew sent."),
    ],
)
def test_public_text_setting(
    context_with: Callable[..., AppContext],
    mode: str,
    description: str,
    notes: str | None,
) -> None:
    context = context_with(public_text=mode)
    agent = StaffFactory(context).headers("agent", "ana")
    with served(context) as client:
        request_id = file(
            client, agent, anonymous=True, description="Hole by 12 Oak St, ask Mrs. Ngata"
        )
        note(client, agent, request_id, "Crew sent.", public=True)
        item = only(client, request_id)
    assert item["description"] == description
    assert item["status_notes"] == notes


def test_anonymous_locations_are_published_without_house_or_flat_numbers(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    request_id = file(
        client,
        agent,
        anonymous=True,
        address="1234 Oak St, Apt 3B",
        lat=39.744712,
        long=-75.548391,
    )
    item = only(client, request_id)
    assert item["address"] == "Oak St"
    assert (item["lat"], item["long"]) == (39.745, -75.548)
    named = file(client, agent, address="1234 Oak St", contact={"name": "Ann Lee"})
    assert only(client, named)["address"] == "1234 Oak St"
    # Staff still see where to send the crew.
    staff_view = client.get(f"/api/requests/{request_id}", headers=agent).json()
    assert staff_view["address"] == "1234 Oak St, Apt 3B"


def test_names_in_anonymous_descriptions_are_not_stored(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    file(
        client,
        agent,
        anonymous=True,
        description="My name is bartholomew ngata; my neighbour Mrs. Ana Lopez dumps trash",
    )
    with context.db() as session:
        stored = session.scalar(sa.text("SELECT description FROM service_requests"))
    assert stored == ("My name is [name removed]; my neighbour Mrs. [name removed] dumps trash")


def test_open311_submissions_keep_no_personal_data_in_the_clear(
    client: TestClient, api_key: str, context: AppContext
) -> None:
    filed = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "graffiti",
            "address_string": "22 Elm St",
            "description": (
                "Tagging on the wall; I'm Bartholomew, call 302-555-0147 or bärt@exämple.org"
            ),
            "first_name": "Bartholomew",
            "last_name": "Ngata",
            "phone": "302-555-0147",
        },
    )
    assert filed.status_code == 201, filed.text
    with context.db() as session:
        stored = session.scalar(sa.text("SELECT description FROM service_requests"))
    assert stored.startswith("Tagging on the wall")
    for secret in ("Bartholomew", "555-0147", "bärt", "exämple"):
        assert secret not in stored


def test_descriptions_waiting_for_review_are_listed_anonymous_ones_too(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    anonymous = file(client, agent, anonymous=True, description="Streetlight out")
    named = file(client, agent, description="Graffiti", contact={"name": "Ann Lee"})
    file(client, agent)  # nothing to review: no description
    queue = client.get("/api/requests/unreviewed", headers=agent)
    assert queue.status_code == 200
    assert [item["id"] for item in queue.json()["items"]] == [named, anonymous]
    client.put(
        f"/api/requests/{anonymous}/public-description",
        json={"text": "Streetlight out"},
        headers=agent,
    )
    queue = client.get("/api/requests/unreviewed", headers=agent).json()
    assert [item["id"] for item in queue["items"]] == [named]
    assert only(client, anonymous)["description"] == "Streetlight out"
    page = client.get("/console/requests/review", headers=agent)
    assert page.status_code == 200 and "Anyone can read what you" in page.text
    # Listed without naming any request in the trail.
    with context.db() as session:
        details = session.scalars(
            sa.text("SELECT object_id FROM audit_log WHERE action = 'requests.unreviewed'")
        ).all()
    assert details == [None, None]
