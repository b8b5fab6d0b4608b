"""The contact reports: wrap-ups change them as expected, published ones withhold small
counts, CSV as well as JSON, and handle time per agent for supervisors only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from tests.support import knowledge_topics

DAY = {"start": "2026-11-18", "end": "2026-11-18"}


def log(client: TestClient, headers: dict[str, str], clock: ManualClock, **body: object) -> str:
    made = client.post("/api/contacts", json={"channel": "phone", **body}, headers=headers)
    assert made.status_code == 201, made.text
    contact_id: str = made.json()["id"]
    return contact_id


def wrap(client: TestClient, headers: dict[str, str], contact_id: str, **body: object) -> None:
    response = client.post(f"/api/contacts/{contact_id}/wrap-up", json=body, headers=headers)
    assert response.status_code == 200, response.text


def counts(items: list[dict[str, object]]) -> dict[object, object]:
    return {item["key"]: item["count"] for item in items}


def test_wrap_ups_change_the_contact_report(
    client: TestClient,
    agent: dict[str, str],
    supervisor: dict[str, str],
    clock: ManualClock,
    context: AppContext,
) -> None:
    knowledge_topics(context, "bulk-pickup", "noise")
    now = clock.now()
    talk = {
        "started_at": (now - timedelta(minutes=6)).isoformat(),
        "ended_at": (now - timedelta(minutes=1)).isoformat(),
    }
    ids = [log(client, agent, clock, **talk) for _ in range(6)]
    ids.append(log(client, agent, clock, channel="email", department="3"))
    before = client.get("/api/reports/contacts", params=DAY, headers=supervisor).json()
    assert counts(before["by_resolution"]) == {"open": 7}
    assert counts(before["by_channel"]) == {"phone": 6, "email": 1}
    assert counts(before["by_department"]) == {"none": 6, "3": 1}

    for contact_id in ids[:4]:
        wrap(client, agent, contact_id, topics=["bulk-pickup"], resolution="information_provided")
    wrap(client, agent, ids[4], topics=["noise"], resolution="referred", transferred_to="Police")
    wrap(client, agent, ids[5], topics=["bulk-pickup", "noise"], resolution="wrong_number")
    after = client.get("/api/reports/contacts", params=DAY, headers=supervisor).json()
    assert counts(after["by_resolution"]) == {
        "information_provided": 4,
        "referred": 1,
        "wrong_number": 1,
        "open": 1,
    }
    assert counts(after["by_topic"]) == {"bulk-pickup": 5, "noise": 2}
    assert after["inquiries_and_requests"] == {
        "inquiries": 5,
        "requests_for_service": 0,
        "neither": 1,
    }
    [month] = after["top_inquiries"]
    assert month["month"] == "2026-11"
    assert month["items"] == [{"key": "bulk-pickup", "count": 4}, {"key": "noise", "count": 1}]

    published = client.get(
        "/api/reports/contacts", params={**DAY, "published": "true"}, headers=supervisor
    ).json()
    assert counts(published["by_topic"]) == {"bulk-pickup": 5, "noise": None}
    assert published["top_inquiries"][0]["items"][0] == {"key": "bulk-pickup", "count": None}

    as_csv = client.get(
        "/api/reports/contacts", params={**DAY, "format": "csv"}, headers=supervisor
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {"section": "by_topic", "key": "noise", "count": "2"} in rows
    assert {"section": "top_inquiries 2026-11", "key": "bulk-pickup", "count": "4"} in rows

    bad = client.get(
        "/api/reports/contacts",
        params={"start": "2026-11-18", "end": "2026-11-01"},
        headers=supervisor,
    )
    assert bad.status_code == 422


def test_handle_time_per_agent_is_for_supervisors(
    client: TestClient,
    agent: dict[str, str],
    supervisor: dict[str, str],
    officer: dict[str, str],
    clock: ManualClock,
    context: AppContext,
) -> None:
    knowledge_topics(context, "noise")
    now = clock.now()
    contact_id = log(
        client,
        agent,
        clock,
        started_at=(now - timedelta(minutes=6)).isoformat(),
        ended_at=(now - timedelta(minutes=1)).isoformat(),
    )
    wrap(client, agent, contact_id, resolution="information_provided", topics=["noise"])
    assert client.get("/api/reports/contacts/agents", params=DAY, headers=agent).status_code == 403
    assert (
        client.get("/api/reports/contacts/agents", params=DAY, headers=officer).status_code == 403
    )
    report = client.get("/api/reports/contacts/agents", params=DAY, headers=supervisor).json()
    assert report["rows"] == [
        {
            "agent": "ana",
            "contacts": 1,
            "avg_talk_seconds": 300.0,
            "avg_after_contact_seconds": 60.0,
            "avg_handle_seconds": 360.0,
        }
    ]
