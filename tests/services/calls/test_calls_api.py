"""Agents look a caller's calls up by number, in any format; every look-up is audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.staff.models import ApiToken, StaffUser
from tests.support import StaffFactory, TwilioClient, audit_entries, audit_entry, echoed


def search(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/calls/search", json=body, headers=headers)


@pytest.mark.parametrize(
    "typed", ["(202) 555-0142", "202.555.0142", "+1 202 555 0142", "2025550142"]
)
def test_search_by_any_common_format_finds_the_callers_calls_newest_first(
    typed: str, twilio: TwilioClient, staff: StaffFactory, clock: ManualClock
) -> None:
    first = twilio.ring(From="+12025550142")
    clock.advance(timedelta(hours=1))
    twilio.ring(From="+13025550199")
    clock.advance(timedelta(hours=1))
    second = twilio.ring(From="+12025550142")
    response = search(twilio.client, staff.headers("agent"), phone=typed)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["call_sid"] for item in items] == [second, first]
    assert set(items[0]) >= {
        "call_sid",
        "parent_call_sid",
        "from_number",
        "to_number",
        "caller_withheld",
        "direction",
        "status",
        "extension",
        "started_at",
        "answered_at",
        "ended_at",
        "duration_seconds",
    }


def test_filters_by_extension_and_time(
    twilio: TwilioClient, staff: StaffFactory, clock: ManualClock
) -> None:
    early = twilio.ring(From="+12025550142")
    twilio.press(early, "2", From="+12025550142")
    clock.advance(timedelta(days=2))
    late = twilio.ring(From="+12025550142")
    headers = staff.headers("agent")
    by_extension = search(twilio.client, headers, phone="2025550142", extension="2").json()["items"]
    assert [item["call_sid"] for item in by_extension] == [early]
    since = (clock.now() - timedelta(hours=1)).isoformat()
    by_time = search(twilio.client, headers, phone="2025550142", since=since).json()["items"]
    assert [item["call_sid"] for item in by_time] == [late]


def test_a_withheld_caller_is_never_found_by_number(
    twilio: TwilioClient, staff: StaffFactory
) -> None:
    twilio.ring(From="anonymous")
    twilio.ring(From="+266696687")
    headers = staff.headers("agent")
    assert search(twilio.client, headers, phone="+266696687").status_code == 422
    assert search(twilio.client, headers, phone="anonymous").status_code == 422


def test_no_token_gets_401_and_is_audited(client: TestClient, context: AppContext) -> None:
    response = client.post("/api/calls/search", json={"phone": "2025550142"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["title"] == "Authentication required"
    entry = audit_entries(context)[-1]
    assert (entry.action, entry.outcome, entry.detail["reason"]) == (
        "access.denied",
        "denied",
        "unauthenticated",
    )


def test_expired_revoked_and_disabled_tokens_are_refused(
    client: TestClient, staff: StaffFactory, context: AppContext, clock: ManualClock
) -> None:
    expired = staff.headers("agent", "ana")
    revoked = staff.headers("agent", "ben")
    disabled = staff.headers("agent", "cai")
    with context.db.begin() as session:
        ben = session.scalars(sa.select(StaffUser).where(StaffUser.username == "ben")).one()
        session.execute(
            sa.update(ApiToken).where(ApiToken.user_id == ben.id).values(revoked_at=clock.now())
        )
        session.execute(
            sa.update(StaffUser).where(StaffUser.username == "cai").values(disabled_at=clock.now())
        )
    assert search(client, revoked, phone="2025550142").status_code == 401
    assert search(client, disabled, phone="2025550142").status_code == 401
    assert search(client, expired, phone="2025550142").status_code == 200
    clock.advance(timedelta(days=31))
    assert search(client, expired, phone="2025550142").status_code == 401
    assert search(client, {"Authorization": "Bearer sb_made-up"}, phone="1").status_code == 401
    assert search(client, {"Authorization": "Basic abc"}, phone="1").status_code == 401


def test_a_bad_number_names_the_field_and_does_not_echo_it(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    response = search(client, staff.headers("agent"), phone="call me maybe")
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [{"field": "phone", "message": "is not a phone number"}]
    assert "call me maybe" not in echoed(response)
    # The refused search is in the trail too, without what was typed.
    entry = audit_entry(context, AuditEntry.request_id == problem["request_id"])
    assert (entry.action, entry.outcome, entry.detail) == (
        "calls.search",
        "invalid",
        {"status": 422},
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"phone": ""},
        {"phone": "2025550142", "extension": "abc"},
        {"phone": "2025550142", "since": "2026-11-18T10:00:00"},
        {"phone": "2025550142", "surprise": 1},
    ],
)
def test_invalid_search_bodies_get_problem_details(
    body: dict[str, Any], client: TestClient, staff: StaffFactory
) -> None:
    response = search(client, staff.headers("agent"), **body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"]


def test_search_is_audited_with_a_keyed_hash_never_the_number(
    twilio: TwilioClient, staff: StaffFactory, context: AppContext
) -> None:
    twilio.ring(From="+12025550142")
    search(twilio.client, staff.headers("agent", "dana"), phone="(202) 555-0142")
    search(twilio.client, staff.headers("supervisor", "eli"), phone="+12025550142")
    entries = audit_entries(context, AuditEntry.action == "calls.search")
    assert [(e.actor_name, e.actor_role, e.detail["results"]) for e in entries] == [
        ("dana", "agent", 1),
        ("eli", "supervisor", 1),
    ]
    # Same number, same hash: the privacy officer can see two people searched the same term.
    assert entries[0].detail["phone_hash"] == entries[1].detail["phone_hash"]
    assert "5550142" not in repr([(e.detail, e.object_id) for e in entries])
    assert all(entry.request_id for entry in entries)


def test_one_call_by_sid_and_404_for_unknown(
    twilio: TwilioClient, staff: StaffFactory, context: AppContext
) -> None:
    sid = twilio.ring(From="+12025550142")
    headers = staff.headers("agent")
    assert twilio.client.get(f"/api/calls/{sid}", headers=headers).json()["call_sid"] == sid
    missing = twilio.client.get(f"/api/calls/CA{'0' * 32}", headers=headers)
    assert missing.status_code == 404
    views = audit_entries(context, AuditEntry.action == "call.view")
    assert [view.outcome for view in views] == ["ok", "not_found"]


def test_an_administrator_reads_no_call_data(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    response = search(client, staff.headers("admin", "root"), phone="2025550142")
    assert response.status_code == 403
    entry = audit_entries(context)[-1]
    assert (entry.action, entry.actor_name, entry.detail["reason"]) == (
        "access.denied",
        "root",
        "role",
    )


def test_supervisors_list_calls_by_extension_status_and_date_with_paging(
    twilio: TwilioClient, staff: StaffFactory, clock: ManualClock, context: AppContext
) -> None:
    ringing_first = twilio.ring(From="+12025550142")
    twilio.press(ringing_first, "3")
    clock.advance(timedelta(hours=1))
    other = twilio.ring(From="+13025550199")
    clock.advance(timedelta(hours=1))
    newest = twilio.ring(From="+12025550142")
    headers = staff.headers("supervisor")

    everything = twilio.client.get("/api/calls", headers=headers).json()
    assert [item["call_sid"] for item in everything["items"]] == [newest, other, ringing_first]
    assert everything["next_before_id"] is None

    on_three = twilio.client.get("/api/calls", params={"extension": "3"}, headers=headers)
    assert [item["call_sid"] for item in on_three.json()["items"]] == [ringing_first]
    ringing = twilio.client.get("/api/calls", params={"status": "ringing"}, headers=headers)
    assert [item["call_sid"] for item in ringing.json()["items"]] == [newest, other]
    since = (clock.now() - timedelta(minutes=90)).isoformat()
    recent = twilio.client.get("/api/calls", params={"since": since}, headers=headers)
    assert [item["call_sid"] for item in recent.json()["items"]] == [newest, other]

    page = twilio.client.get("/api/calls", params={"limit": 2}, headers=headers).json()
    assert [item["call_sid"] for item in page["items"]] == [newest, other]
    rest = twilio.client.get(
        "/api/calls", params={"limit": 2, "before_id": page["next_before_id"]}, headers=headers
    ).json()
    assert [item["call_sid"] for item in rest["items"]] == [ringing_first]

    naive = twilio.client.get("/api/calls", params={"since": "2026-11-18T09:00"}, headers=headers)
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "since"
    assert "needs a time zone offset" in naive.json()["errors"][0]["message"]
    listed = audit_entries(context, AuditEntry.action == "calls.list")
    assert len(listed) == 6
    assert listed[1].detail == {"results": 1, "filters": ["extension"]}
