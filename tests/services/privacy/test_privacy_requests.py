"""Access-and-correction requests: business-day deadlines, finding everything held about
a person, exports and letters, corrections through the normal services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.errors import InvalidField
from services.platform.models import AuditEntry
from services.privacy.calendar import BusinessCalendar, us_federal_holidays
from services.privacy.models import PrivacyRequest
from tests.support import (
    StaffFactory,
    TwilioClient,
    audit_entries,
    audit_entry,
    call_sid,
    filed_request,
    privacy_request,
)

PERSON = {
    "name": "Dolores Ibarra",
    "phone": "(302) 555-0161",
    "email": "d.ibarra@example.com",
    "address": "41 Vandever Ave",
}


def test_federal_holidays_and_observed_days() -> None:
    days = us_federal_holidays(2026)
    assert date(2026, 11, 26) in days  # Thanksgiving
    assert date(2026, 7, 3) in days  # 4 July on a Saturday is observed on the Friday
    assert date(2026, 1, 19) in days and date(2026, 5, 25) in days
    assert date(2027, 12, 31) in us_federal_holidays(2027)  # New Year 2028 is a Saturday
    assert date(2026, 11, 27) not in days


def test_business_days_skip_weekends_and_holidays() -> None:
    calendar = BusinessCalendar.from_settings(True, "2026-12-01")
    # Received the day before Thanksgiving: Fri, Mon, (Tue is a city holiday), Wed, Thu, Fri.
    assert calendar.add_business_days(date(2026, 11, 25), 5) == date(2026, 12, 4)
    # Received on a Saturday: counting starts on Monday.
    assert calendar.add_business_days(date(2026, 11, 28), 5) == date(2026, 12, 7)
    assert calendar.business_days_between(date(2026, 11, 25), date(2026, 12, 4)) == 5
    assert calendar.business_days_between(date(2026, 12, 4), date(2026, 11, 25)) == -5
    with pytest.raises(InvalidField) as refused:
        BusinessCalendar.from_settings(True, "first of May")
    assert "ISO date" in refused.value.errors[0]["message"]


@pytest.fixture
def trail(client: TestClient, twilio: TwilioClient, agent: dict[str, str]) -> dict[str, Any]:
    """What the person left, by name: their call and the request filed on it with their
    details, one found by their email, an anonymous one about them, someone else's, and
    a text they sent."""
    sid = call_sid()
    frm = "+13025550161"
    twilio.ring(sid, From=frm)
    filed = filed_request(
        client,
        agent,
        service_code="pothole",
        description="Pothole at the corner",
        address="900 N Market St",
        call_sid=sid,
        contact=PERSON,
    )
    by_email = filed_request(
        client,
        agent,
        service_code="pothole",
        address="1 Rodney Sq",
        contact={"email": "D.Ibarra@Example.com"},
    )
    anonymous = filed_request(
        client,
        agent,
        service_code="pothole",
        address="5 Elm St",
        anonymous=True,
        description="Reported by Dolores, call back 302-555-0161",
    )
    someone_else = filed_request(
        client, agent, service_code="pothole", address="2 Elm St", contact={"name": "Ana Ruiz"}
    )
    twilio.text(frm, "Is the crew still coming?")
    return {
        "call": sid,
        "filed": filed["id"],
        "by_email": by_email["id"],
        "anonymous": anonymous["id"],
        "other": someone_else["id"],
    }


def new_request(client: TestClient, officer: dict[str, str], **extra: Any) -> Any:
    """PERSON asks to see and correct their data (``extra`` changes the request)."""
    fields = {
        "kinds": ["access", "correction"],
        "requester": {"phone": PERSON["phone"], "email": PERSON["email"]},
        **extra,
    }
    return privacy_request(client, officer, **fields)


def test_an_access_request_from_receipt_to_grant(
    client: TestClient,
    officer: dict[str, str],
    trail: dict[str, Any],
    context: AppContext,
    clock: ManualClock,
) -> None:
    recorded = new_request(client, officer)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert body["status"] == "received" and body["respond_by"] == "2026-11-25"
    assert body["next_deadline"]["kind"] == "answer" and not body["next_deadline"]["overdue"]
    public_id = body["id"]
    with context.db() as session:
        sealed = session.scalar(sa.select(PrivacyRequest.requester_sealed))
    assert sealed is not None and PERSON["email"].encode() not in sealed

    # The due list: a week later, the answer is overdue.
    clock.set(datetime(2026, 11, 27, 15, tzinfo=UTC))
    officer = {"Authorization": officer["Authorization"]}
    due = client.get("/api/privacy/requests", headers=_fresh(context, "pat2")).json()
    assert [(r["id"], r["next_deadline"]["overdue"]) for r in due] == [(public_id, True)]
    headers = _fresh(context, "pat3")

    # Everything held about the person, found by phone and email, never the anonymous one.
    exported = client.get(f"/api/privacy/requests/{public_id}/export", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith("attachment")
    data = exported.json()
    found = {r["id"] for r in data["service_requests"]}
    assert found == {trail["filed"], trail["by_email"]}
    assert trail["anonymous"] not in exported.text and trail["other"] not in exported.text
    assert [c["call_sid"] for c in data["calls"]] == [trail["call"]]
    assert data["texts_received"][0]["body"] == "Is the crew still coming?"
    assert "anonymously" in data["not_included"]
    page = client.get(f"/api/privacy/requests/{public_id}/export.html", headers=headers)
    assert page.status_code == 200 and "Dolores Ibarra" in page.text
    assert "<script" not in page.text
    assert "style-src 'sha256-" in page.headers["content-security-policy"]

    # Acknowledge, with a decision date no more than 30 days on.
    too_late = client.post(
        f"/api/privacy/requests/{public_id}/acknowledge",
        json={"decision_by": "2026-12-28"},
        headers=headers,
    )
    assert too_late.status_code == 422 and "decision_by" in too_late.text
    acknowledged = client.post(
        f"/api/privacy/requests/{public_id}/acknowledge", json={}, headers=headers
    ).json()
    assert acknowledged["decision_by"] == "2026-12-27"
    assert acknowledged["next_deadline"]["kind"] == "decision"
    letter = client.get(
        f"/api/privacy/requests/{public_id}/letters/acknowledgement", headers=headers
    )
    assert "27 December 2026" in letter.text and public_id in letter.text
    assert (
        client.get(f"/api/privacy/requests/{public_id}/letters/grant", headers=headers).status_code
        == 409
    )

    refused = client.post(
        f"/api/privacy/requests/{public_id}/decide", json={"decision": "denied"}, headers=headers
    )
    assert refused.status_code == 422  # a denial states its reasons
    granted = client.post(
        f"/api/privacy/requests/{public_id}/decide", json={"decision": "granted"}, headers=headers
    ).json()
    assert granted["status"] == "granted" and granted["next_deadline"] is None
    grant = client.get(f"/api/privacy/requests/{public_id}/letters/grant", headers=headers)
    assert "2 service requests" in grant.text and "anonymously" in grant.text
    assert "right to ask us to correct" in grant.text
    assert client.get("/api/privacy/requests", headers=headers).json() == []

    details = [entry.detail for entry in audit_entries(context, AuditEntry.object_id == public_id)]
    assert details and all(value not in str(details) for value in (*PERSON.values(), "3025550161"))


def _fresh(context: AppContext, name: str) -> dict[str, str]:
    return StaffFactory(context).headers("privacy_officer", name)


def test_corrections_go_through_the_requests_service_and_only_for_that_person(
    client: TestClient,
    agent: dict[str, str],
    officer: dict[str, str],
    trail: dict[str, Any],
    context: AppContext,
) -> None:
    public_id = new_request(client, officer).json()["id"]
    corrected = client.post(
        f"/api/privacy/requests/{public_id}/corrections",
        json={"request_id": trail["filed"], "email": "dolores@example.org", "clear": ["address"]},
        headers=officer,
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["corrected"] == ["address", "email"]
    found = client.post(
        "/api/requests/search", json={"email": "Dolores@example.org"}, headers=agent
    ).json()
    assert [r["id"] for r in found["items"]] == [trail["filed"]]
    assert found["items"][0]["contact"]["address"] is None
    not_theirs = client.post(
        f"/api/privacy/requests/{public_id}/corrections",
        json={"request_id": trail["other"], "name": "Someone"},
        headers=officer,
    )
    assert not_theirs.status_code == 422 and "request_id" in not_theirs.text
    entry = audit_entry(
        context,
        AuditEntry.action == "request.contact_correct",
        AuditEntry.object_id == trail["filed"],
    )
    assert entry.detail == {"privacy_request": public_id, "fields": ["address", "email"]}


def test_bad_requests_change_nothing_and_only_the_privacy_officer_may(
    client: TestClient, officer: dict[str, str], agent: dict[str, str], context: AppContext
) -> None:
    cases = [
        ({"identity_evidence": "SSN 219-09-9999 checked"}, "identity_evidence"),
        ({"requester": {}}, "requester"),
        ({"requester": {"phone": "12"}}, "phone"),
        ({"received_on": "2026-12-30"}, "received_on"),
        ({"kinds": []}, "kinds"),
    ]
    for extra, field in cases:
        response = new_request(client, officer, **extra)
        assert response.status_code == 422, (extra, response.text)
        assert field in response.text
    assert new_request(client, agent).status_code == 403
    assert client.get("/api/privacy/requests", headers=agent).status_code == 403
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)) == 0


def test_a_denial_letter_gives_the_reasons(
    client: TestClient, officer: dict[str, str], clock: ManualClock
) -> None:
    public_id = new_request(client, officer, kinds=["access"]).json()["id"]
    reason = "The request names records of another person's household."
    denied = client.post(
        f"/api/privacy/requests/{public_id}/decide",
        json={"decision": "denied", "reason": reason},
        headers=officer,
    )
    assert denied.status_code == 200 and denied.json()["decided_on"] == "2026-11-18"
    letter = client.get(f"/api/privacy/requests/{public_id}/letters/denial", headers=officer)
    assert letter.status_code == 200 and "household" in letter.text
    assert "&#39;" in letter.text or "another person" in letter.text
    clock.advance(timedelta(days=1))
    again = client.post(
        f"/api/privacy/requests/{public_id}/decide", json={"decision": "granted"}, headers=officer
    )
    assert again.status_code == 409


def test_a_state_adds_its_own_public_holidays() -> None:
    """Delaware keeps Good Friday and Election Day; the federal calendar does not."""
    federal = BusinessCalendar.from_settings(True, "")
    delaware = BusinessCalendar.from_settings(True, "", "de")
    good_friday, election_day = date(2026, 4, 3), date(2026, 11, 3)
    assert federal.is_business_day(good_friday) and federal.is_business_day(election_day)
    assert not delaware.is_business_day(good_friday)
    assert not delaware.is_business_day(election_day)
    # Received the Thursday before Good Friday: the answer is due a day later in Delaware.
    assert delaware.add_business_days(date(2026, 4, 2), 5) == date(2026, 4, 10)
    assert federal.add_business_days(date(2026, 4, 2), 5) == date(2026, 4, 9)
    with pytest.raises(ValueError, match="not a US state"):
        BusinessCalendar.from_settings(True, "", "ZZ")


def test_holiday_state_setting_reaches_the_deadlines(
    context_with: Callable[..., AppContext],
) -> None:
    calendar = context_with(holiday_state="DE").part(BusinessCalendar)
    assert not calendar.is_business_day(date(2026, 11, 3))


def test_refused_steps_are_audited_and_change_nothing(
    client: TestClient,
    agent: dict[str, str],
    officer: dict[str, str],
    trail: dict[str, Any],
    context: AppContext,
) -> None:
    public_id = new_request(client, officer, kinds=["access"]).json()["id"]
    early = client.get(f"/api/privacy/requests/{public_id}/letters/grant", headers=officer)
    assert early.status_code == 409
    not_asked = client.post(
        f"/api/privacy/requests/{public_id}/corrections",
        json={"request_id": trail["filed"], "name": "Someone Else"},
        headers=officer,
    )
    assert not_asked.status_code == 409
    missing = client.post(
        "/api/privacy/requests/PR-ZZZZZZZZ/corrections",
        json={"request_id": trail["filed"], "name": "Someone Else"},
        headers=officer,
    )
    assert missing.status_code == 404
    filed = client.get(f"/api/requests/{trail['filed']}", headers=agent).json()
    assert filed["contact"]["name"] == PERSON["name"]
    entries = audit_entries(
        context, AuditEntry.action.in_(["privacy.letter", "request.contact_correct"])
    )
    assert [(e.action, e.object_id, e.outcome) for e in entries] == [
        ("privacy.letter", public_id, "conflict"),
        ("request.contact_correct", trail["filed"], "conflict"),
        ("request.contact_correct", trail["filed"], "not_found"),
    ]
    assert entries[0].detail == {"letter": "grant", "status": 409}
    assert entries[2].detail == {
        "privacy_request": "PR-ZZZZZZZZ",
        "fields": ["name"],
        "status": 404,
    }
