"""The audit trail does not undo an anonymous request's anonymity: no entry pairs the
request with the agent who handled it and the minute they did, the way an auditor with
the database would look for one (joining the trail to the requests)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.requests.models import RequestStatusChange, ServiceRequest
from tests.support import privacy_request

AUDITOR_JOIN = sa.text(
    """
    SELECT a.action, a.actor_name, a.occurred_at
    FROM audit_log a JOIN service_requests r ON a.object_id = r.public_id
    WHERE r.anonymous = :anonymous
    ORDER BY a.seq
    """
)


def handle(client: TestClient, agent: dict[str, str], clock: ManualClock, **body: object) -> str:
    """File a request, then read it, move it on twice, publish its description and try
    to correct its contact, a few minutes apart."""
    filed = client.post(
        "/api/requests",
        json={"service_code": "pothole", "description": "Deep hole", **body},
        headers=agent,
    )
    assert filed.status_code == 201
    request_id: str = filed.json()["id"]
    for path, method, payload in (
        (f"/api/requests/{request_id}", "GET", None),
        (f"/api/requests/{request_id}/status", "POST", {"status": "in_progress"}),
        (f"/api/requests/{request_id}/status", "POST", {"status": "closed", "note": "Done"}),
        (f"/api/requests/{request_id}/public-description", "PUT", {"text": "Deep hole"}),
        (f"/api/requests/{request_id}/contact", "PATCH", {"name": "Pat Example"}),
    ):
        clock.advance(timedelta(minutes=7))
        client.request(method, path, json=payload, headers=agent)
    return request_id


def test_no_entry_ties_an_anonymous_request_to_the_agent_and_the_minute(
    client: TestClient, agent: dict[str, str], clock: ManualClock, context: AppContext
) -> None:
    clock.set(clock.now().replace(minute=47, second=13))
    anonymous = handle(client, agent, clock, anonymous=True)
    handle(client, agent, clock, contact={"name": "Ann Lee"})
    with context.db() as session:
        assert session.execute(AUDITOR_JOIN, {"anonymous": True}).all() == []
        # Requests with a contact stay fully accountable.
        actions = [row.action for row in session.execute(AUDITOR_JOIN, {"anonymous": False})]
        assert actions == [
            "request.create",
            "request.view",
            "request.status",
            "request.status",
            "request.publish",
            "request.contact_correct",
        ]
        # Nor does the number hide in an entry's detail, or the history name the agent.
        details = session.scalars(sa.text("SELECT detail FROM audit_log")).all()
        assert anonymous not in repr(details)
        history = session.scalars(
            sa.select(RequestStatusChange)
            .join(ServiceRequest)
            .where(ServiceRequest.public_id == anonymous)
        ).all()
        assert len(history) == 3
        assert {change.changed_by_id for change in history} == {None}
        assert {(change.changed_at.minute, change.changed_at.second) for change in history} == {
            (0, 0)
        }


def test_a_correction_naming_an_anonymous_request_does_not_name_it_either(
    client: TestClient, agent: dict[str, str], officer: dict[str, str], context: AppContext
) -> None:
    anonymous = client.post(
        "/api/requests", json={"service_code": "pothole", "anonymous": True}, headers=agent
    ).json()["id"]
    correction = privacy_request(
        client, officer, kinds=["correction"], requester={"phone": "(302) 555-0123"}
    ).json()["id"]
    refused = client.post(
        f"/api/privacy/requests/{correction}/corrections",
        json={"request_id": anonymous, "name": "Pat Example"},
        headers=officer,
    )
    assert refused.status_code == 422
    with context.db() as session:
        assert session.execute(AUDITOR_JOIN, {"anonymous": True}).all() == []
