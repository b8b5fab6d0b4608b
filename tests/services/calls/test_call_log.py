"""The call log as supervisors read it: one row per call (its legs folded in), with the
agent who answered and what hangs off the call; found by the caller's number, audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.staff.models import StaffUser
from tests.support import (
    StaffFactory,
    TwilioClient,
    audit_entries,
    call_sid,
    knowledge_topics,
    rfc2822,
    stored_recording,
)

CALLER = "+12025550142"
DESK = "+13025550190"


def _leg(
    twilio: TwilioClient, parent: str, leg: str, status: str, clock: ManualClock, n: int
) -> None:
    twilio.leg(
        parent,
        leg,
        status,
        to=DESK,
        sequence=n,
        From=CALLER,
        Timestamp=rfc2822(clock.now()),
        **({"CallDuration": "60"} if status == "completed" else {}),
    )


def _end(twilio: TwilioClient, sid: str, clock: ManualClock, **extra: str) -> None:
    ended = twilio.post(
        "/twilio/voice/status",
        twilio.call_params(
            sid,
            "completed",
            CallDuration="75",
            SequenceNumber="9",
            Timestamp=rfc2822(clock.now()),
            **extra,
        ),
    )
    assert ended.status_code == 204, ended.text


def _recorded(context: AppContext, sid: str) -> str:
    return stored_recording(context, sid, state="pending")


def test_one_row_per_call_with_who_answered_and_what_hangs_off_it(
    twilio: TwilioClient, staff: StaffFactory, clock: ManualClock, context: AppContext
) -> None:
    agent = staff.headers("agent", "ana")
    supervisor = staff.headers("supervisor")
    with context.db.begin() as session:
        session.execute(
            sa.update(StaffUser)
            .where(StaffUser.username == "ana")
            .values(destination=DESK, department="1", presence="available")
        )
    answered = twilio.ring(From=CALLER)
    twilio.press(answered, "1", From=CALLER)
    clock.advance(timedelta(seconds=12))
    leg = call_sid()
    _leg(twilio, answered, leg, "in-progress", clock, 1)
    rsid = _recorded(context, leg)
    filed = twilio.client.post(
        "/api/requests",
        json={
            "service_code": "pothole",
            "description": "Deep pothole on Elm",
            "address": "12 Elm St",
            "call_sid": answered,
            "contact": {"phone": CALLER},
        },
        headers=agent,
    )
    assert filed.status_code == 201, filed.text
    clock.advance(timedelta(seconds=60))
    _leg(twilio, answered, leg, "completed", clock, 2)
    _end(twilio, answered, clock, From=CALLER)
    knowledge_topics(context, "pothole-report")
    [contact] = twilio.client.post(
        "/api/contacts/search", json={"call_sid": leg}, headers=agent
    ).json()["items"]
    wrapped = twilio.client.post(
        f"/api/contacts/{contact['id']}/wrap-up",
        json={
            "resolution": "request_filed",
            "request_ids": [filed.json()["id"]],
            "topics": ["pothole-report"],
        },
        headers=agent,
    )
    assert wrapped.status_code == 200, wrapped.text

    clock.advance(timedelta(minutes=5))
    abandoned = twilio.ring(From="+13025550111")
    twilio.press(abandoned, "1", From="+13025550111")
    clock.advance(timedelta(seconds=40))
    _end(twilio, abandoned, clock, From="+13025550111")

    page = twilio.client.get("/api/calls/log", headers=supervisor)
    assert page.status_code == 200, page.text
    rows = page.json()["items"]
    assert [row["call_sid"] for row in rows] == [abandoned, answered]  # no row for the leg
    last, first = rows
    assert first["agent"] == "ana" and first["wait_seconds"] == 12
    assert first["from_number"] == CALLER and first["extension"] == "1"
    assert first["recordings"] == [rsid]
    assert [contact["agent"] for contact in first["contacts"]] == ["ana"]
    [line] = first["contacts"]
    assert (line["topics"], line["topic_titles"]) == (["pothole-report"], ["Pothole Report"])
    assert first["requests"] == [filed.json()["id"]]
    assert last["agent"] is None and last["answered_at"] is None and last["recordings"] == []
    by_agent = twilio.client.get("/api/calls/log?agent=ana", headers=supervisor).json()
    assert [row["call_sid"] for row in by_agent["items"]] == [answered]

    for typed in ("(202) 555-0142", "202.555.0142", "+1 202 555 0142"):
        found = twilio.client.post(
            "/api/calls/log/search", json={"phone": typed}, headers=supervisor
        )
        assert found.status_code == 200, found.text
        assert [row["call_sid"] for row in found.json()["items"]] == [answered]
    bad = twilio.client.post("/api/calls/log/search", json={"phone": "12"}, headers=supervisor)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "phone"

    searches = audit_entries(context, AuditEntry.action == "calls.search")
    assert len(searches) == 4  # the refused one too
    assert len([entry for entry in searches if "phone_hash" in entry.detail]) == 3
    assert all("555" not in str(entry.detail) for entry in searches)
    listings: list[Any] = audit_entries(context, AuditEntry.action == "calls.list")
    assert listings[-1].detail["filters"] == ["agent"] and listings[-1].detail["per"] == "call"


def test_the_log_is_for_those_who_read_calls(twilio: TwilioClient, staff: StaffFactory) -> None:
    editor = staff.headers("knowledge_editor")
    assert twilio.client.get("/api/calls/log", headers=editor).status_code == 403
    refused = twilio.client.post("/api/calls/log/search", json={"phone": CALLER}, headers=editor)
    assert refused.status_code == 403
