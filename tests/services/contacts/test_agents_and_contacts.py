"""Agents, routing and contacts, end to end through the app: a department's call is
offered to its available agents longest idle first, then the department, then
voicemail; the answered leg names its agent, opens their contact and moves their
presence; wrap-up records why the person called and how it ended; an anonymous request
filed on a contact cannot be reached from the caller's number."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.contacts.models import Contact
from services.knowledge import service as knowledge
from services.platform import audit
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.retention.actions import run_retention
from tests.support import (
    StaffFactory,
    TwilioClient,
    access_export,
    audit_entries,
    call_sid,
    filed_request,
    knowledge_topics,
    rfc2822,
    staff_account,
    stored_recording,
)

CALLER = "+13025550161"


def twiml(text: str) -> ET.Element:
    return ET.fromstring(text)


def dialled(response: Any) -> tuple[str, str] | None:
    """The noun a Dial rings, as (tag, text), or None when the TwiML holds no Dial."""
    dial = twiml(response.text).find("Dial")
    if dial is None:
        return None
    noun = next(iter(dial))
    return noun.tag, (noun.text or "").strip()


def make_agent(
    client: TestClient,
    staff: StaffFactory,
    admin: dict[str, str],
    name: str,
    destination: str,
    *,
    department: str = "1",
    presence: str = "available",
) -> dict[str, str]:
    headers = staff.headers("agent", name)
    changed = client.patch(
        f"/api/staff/{staff_account(client, admin, name)['id']}",
        json={"destination": destination, "department": department},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    set_to = client.put("/api/me/presence", json={"state": presence}, headers=headers)
    assert set_to.status_code == 200, set_to.text
    return headers


def dial_ended(twilio: TwilioClient, sid: str, status: str, ext: str = "1") -> Any:
    return twilio.post(
        f"/twilio/voice/dial-complete?lang=en&ext={ext}",
        twilio.call_params(sid, "in-progress", DialCallStatus=status, From=CALLER),
    )


def leg_event(
    twilio: TwilioClient,
    parent: str,
    leg: str,
    status: str,
    to: str,
    at: datetime,
    sequence: int,
    **extra: str,
) -> None:
    twilio.leg(
        parent, leg, status, to=to, sequence=sequence, From=CALLER, Timestamp=rfc2822(at), **extra
    )


def presence(client: TestClient, headers: dict[str, str]) -> str:
    state: str = client.get("/api/me/presence", headers=headers).json()["state"]
    return state


def test_presence_is_set_and_read_by_its_holder_and_bad_states_change_nothing(
    client: TestClient, agent: dict[str, str], clock: ManualClock
) -> None:
    first = client.get("/api/me/presence", headers=agent)
    assert first.status_code == 200 and first.json()["state"] == "away"
    changed = client.put("/api/me/presence", json={"state": "available"}, headers=agent)
    assert changed.status_code == 200 and changed.json()["state"] == "available"
    since = changed.json()["since"]
    clock.advance(timedelta(minutes=3))
    again = client.put("/api/me/presence", json={"state": "available"}, headers=agent)
    assert again.json()["since"] == since  # staying available keeps the idle time
    bad = client.put("/api/me/presence", json={"state": "asleep"}, headers=agent)
    assert bad.status_code == 422
    assert presence(client, agent) == "available"


def test_staff_destinations_and_departments_are_checked(
    client: TestClient, staff: StaffFactory
) -> None:
    admin = staff.headers("admin", "root")
    made = client.post(
        "/api/staff",
        json={
            "username": "dee",
            "role": "agent",
            "destination": "(302) 555-0190",
            "department": "2",
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    assert made.json()["destination"] == "+13025550190" and made.json()["department"] == "2"
    taken = client.post(
        "/api/staff",
        json={"username": "eve", "role": "agent", "destination": "+1 302 555 0190"},
        headers=admin,
    )
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "destination"
    for body in ({"destination": "ftp://nowhere"}, {"department": "77"}):
        refused = client.patch(f"/api/staff/{made.json()['id']}", json=body, headers=admin)
        assert refused.status_code == 422, refused.text
    sip = client.patch(
        f"/api/staff/{made.json()['id']}",
        json={"destination": "SIP:Dee@PBX.City.Example;transport=tls"},
        headers=admin,
    )
    assert sip.json()["destination"] == "sip:Dee@pbx.city.example"
    names = [user["username"] for user in client.get("/api/staff", headers=admin).json()["items"]]
    assert "eve" not in names


def test_a_call_rings_available_agents_longest_idle_first_then_the_department_then_voicemail(
    client: TestClient, twilio: TwilioClient, staff: StaffFactory, clock: ManualClock
) -> None:
    admin = staff.headers("admin", "root")
    make_agent(client, staff, admin, "ana", "client:ana")
    clock.advance(timedelta(minutes=1))
    make_agent(client, staff, admin, "bob", "+13025550191")
    make_agent(client, staff, admin, "carl", "client:carl", presence="away")
    make_agent(client, staff, admin, "dora", "client:dora", department="2")
    clock.advance(timedelta(minutes=1))

    sid = twilio.ring(From=CALLER)
    assert dialled(twilio.press(sid, "1", From=CALLER)) == ("Client", "ana")
    # A second caller meanwhile is not offered ana, who is ringing for the first.
    other = twilio.ring(From="+13025550170")
    assert dialled(twilio.press(other, "1", From="+13025550170")) == ("Number", "+13025550191")
    assert dialled(dial_ended(twilio, other, "no-answer")) == ("Client", "sanitation")

    # ana did not answer: bob (free again) is next, then the department, then voicemail.
    assert dialled(dial_ended(twilio, sid, "no-answer")) == ("Number", "+13025550191")
    assert dialled(dial_ended(twilio, sid, "no-answer")) == ("Client", "sanitation")
    last = dial_ended(twilio, sid, "busy")
    assert dialled(last) is None and twiml(last.text).find("Record") is not None
    # The caller hanging up while it rang ends the call: nothing more is dialled.
    gone = dial_ended(twilio, other, "canceled")
    assert dialled(gone) is None and twiml(gone.text).find("Hangup") is not None


def test_the_answered_leg_names_the_agent_opens_the_contact_and_moves_presence(
    client: TestClient,
    twilio: TwilioClient,
    staff: StaffFactory,
    clock: ManualClock,
    supervisor: dict[str, str],
    context: AppContext,
) -> None:
    knowledge_topics(context, "trash-pickup-day")
    admin = staff.headers("admin", "root")
    ana = make_agent(client, staff, admin, "ana", "client:ana")
    bob = make_agent(client, staff, admin, "bob", "client:bob")
    start = clock.now()
    sid = twilio.ring(From=CALLER)
    assert dialled(twilio.press(sid, "1", From=CALLER)) == ("Client", "ana")
    # ana's screen pops with the call; bob's, on the same department, does not.
    assert [
        ring["call_sid"] for ring in client.get("/console/events", headers=ana).json()["ringing"]
    ] == [sid]
    assert client.get("/console/events", headers=bob).json()["ringing"] == []

    leg = call_sid()
    leg_event(twilio, sid, leg, "ringing", "client:ana", start + timedelta(seconds=10), 1)
    assert client.get(f"/api/calls/{leg}", headers=ana).json()["agent"] is None
    leg_event(twilio, sid, leg, "in-progress", "client:ana", start + timedelta(seconds=15), 2)
    assert client.get(f"/api/calls/{leg}", headers=ana).json()["agent"] == "ana"
    assert client.get(f"/api/calls/{sid}", headers=ana).json()["agent"] == "ana"
    assert presence(client, ana) == "busy"
    found = client.post("/api/contacts/search", json={"call_sid": sid}, headers=ana).json()
    [contact] = found["items"]
    assert contact["channel"] == "phone" and contact["agent"] == "ana"
    assert contact["call_sid"] == leg and contact["department"] == "1"
    assert contact["resolution"] is None and contact["ended_at"] is None

    # A repeated answer changes nothing; the end puts ana in wrap-up.
    leg_event(twilio, sid, leg, "in-progress", "client:ana", start + timedelta(seconds=15), 2)
    clock.advance(timedelta(minutes=5))
    leg_event(
        twilio,
        sid,
        leg,
        "completed",
        "client:ana",
        start + timedelta(seconds=300),
        3,
        CallDuration="285",
    )
    assert presence(client, ana) == "wrap_up"
    assert dial_ended(twilio, sid, "completed").status_code == 200
    contacts = client.post("/api/contacts/search", json={"agent": "ana"}, headers=ana).json()
    assert [c["id"] for c in contacts["items"]] == [contact["id"]]

    # bob may not wrap up ana's contact; ana may, and is then available again.
    body = {"topics": ["trash-pickup-day"], "resolution": "information_provided"}
    refused = client.post(f"/api/contacts/{contact['id']}/wrap-up", json=body, headers=bob)
    assert refused.status_code == 403
    clock.advance(timedelta(seconds=40))
    wrapped = client.post(f"/api/contacts/{contact['id']}/wrap-up", json=body, headers=ana)
    assert wrapped.status_code == 200, wrapped.text
    out = wrapped.json()
    assert out["topics"] == ["trash-pickup-day"] and out["resolution"] == "information_provided"
    assert out["ended_at"] is not None and out["wrapped_up_at"] is not None
    assert out["after_contact_seconds"] is not None and out["after_contact_seconds"] > 0
    assert presence(client, ana) == "available"
    # A supervisor may correct it.
    fixed = client.post(
        f"/api/contacts/{contact['id']}/wrap-up",
        json={"resolution": "transferred", "transferred_to": "Parks Department"},
        headers=supervisor,
    )
    assert fixed.status_code == 200 and fixed.json()["transferred_to"] == "Parks Department"
    assert fixed.json()["wrapped_up_at"] == out["wrapped_up_at"]


def test_wrap_up_past_the_limit_makes_the_agent_available_again(
    client: TestClient, twilio: TwilioClient, staff: StaffFactory, clock: ManualClock
) -> None:
    admin = staff.headers("admin", "root")
    ana = make_agent(client, staff, admin, "ana", "client:ana")
    sid = twilio.ring(From=CALLER)
    twilio.press(sid, "1", From=CALLER)
    leg = call_sid()
    now = clock.now()
    leg_event(twilio, sid, leg, "completed", "client:ana", now, 3, CallDuration="60")
    assert presence(client, ana) == "wrap_up"
    # Not offered while in wrap-up ...
    waiting = twilio.ring(From="+13025550171")
    assert dialled(twilio.press(waiting, "1", From="+13025550171")) == ("Client", "sanitation")
    # ... and offered again once the limit (120 s by default) has passed.
    clock.advance(timedelta(seconds=121))
    assert presence(client, ana) == "available"
    later = twilio.ring(From="+13025550172")
    assert dialled(twilio.press(later, "1", From="+13025550172")) == ("Client", "ana")


def test_someone_at_the_counter_takes_the_agent_off_calls_until_wrapped_up(
    client: TestClient, twilio: TwilioClient, staff: StaffFactory
) -> None:
    admin = staff.headers("admin", "root")
    ana = make_agent(client, staff, admin, "ana", "client:ana")
    walk_in = client.post("/api/contacts", json={"channel": "walk_in"}, headers=ana)
    assert walk_in.status_code == 201, walk_in.text
    assert presence(client, ana) == "busy"  # serving someone in person: no calls offered
    waiting = twilio.ring(From="+13025550173")
    assert dialled(twilio.press(waiting, "1", From="+13025550173")) == ("Client", "sanitation")
    wrapped = client.post(
        f"/api/contacts/{walk_in.json()['id']}/wrap-up",
        json={"resolution": "information_provided"},
        headers=ana,
    )
    assert wrapped.status_code == 200, wrapped.text
    assert presence(client, ana) == "available"
    # Logged after the fact (it has ended), or by someone away: their status stays.
    done = {"channel": "walk_in", "started_at": "2026-11-18T09:00:00-05:00"}
    done["ended_at"] = "2026-11-18T09:10:00-05:00"
    assert client.post("/api/contacts", json=done, headers=ana).status_code == 201
    assert presence(client, ana) == "available"
    bo = make_agent(client, staff, admin, "bo", "client:bo", presence="away")
    assert client.post("/api/contacts", json={"channel": "walk_in"}, headers=bo).status_code == 201
    assert presence(client, bo) == "away"


def test_bad_wrap_ups_are_refused_and_change_nothing(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    knowledge_topics(context, "covid-testing")
    with context.db.begin() as session:
        retired = knowledge.get_article(session, "covid-testing")
        assert retired is not None
        retired.retired = True
    made = client.post("/api/contacts", json={"channel": "walk_in"}, headers=agent)
    assert made.status_code == 201, made.text
    contact_id = made.json()["id"]
    assert made.json()["agent"] == "ana" and made.json()["channel"] == "walk_in"
    refusals = [
        ({"resolution": "information_provided", "notes": "SSN 219-09-9999"}, "notes"),
        ({"resolution": "transferred"}, "transferred_to"),
        ({"resolution": "request_filed"}, "request_ids"),
        ({"resolution": "request_filed", "request_ids": ["SR-ZZZZZ-ZZZZZ"]}, "request_ids.0"),
        ({"resolution": "information_provided", "topics": ["Not A Code!"]}, "topics.0"),
        # Well-formed, but no article in the knowledge base has it (or it is retired).
        ({"resolution": "information_provided", "topics": ["no-such-answer"]}, "topics.0"),
        ({"resolution": "information_provided", "topics": ["covid-testing"]}, "topics.0"),
        ({"resolution": "whatever"}, "resolution"),
    ]
    for body, field in refusals:
        refused = client.post(f"/api/contacts/{contact_id}/wrap-up", json=body, headers=agent)
        assert refused.status_code == 422, (body, refused.text)
        assert field in [error["field"].removeprefix("body.") for error in refused.json()["errors"]]
        assert "9999" not in refused.text
    unchanged = client.get(f"/api/contacts/{contact_id}", headers=agent).json()
    assert unchanged["resolution"] is None and unchanged["notes"] is None
    entries = audit_entries(context, AuditEntry.action == "contact.wrap_up")
    assert entries and all(entry.outcome == "invalid" for entry in entries)


def test_an_anonymous_request_filed_on_a_contact_cannot_be_reached_from_the_callers_number(
    client: TestClient,
    twilio: TwilioClient,
    staff: StaffFactory,
    clock: ManualClock,
    officer: dict[str, str],
    context: AppContext,
) -> None:
    knowledge_topics(context, "pothole")
    admin = staff.headers("admin", "root")
    ana = make_agent(client, staff, admin, "ana", "client:ana")
    sid = twilio.ring(From=CALLER)
    twilio.press(sid, "1", From=CALLER)
    leg = call_sid()
    leg_event(twilio, sid, leg, "in-progress", "client:ana", clock.now(), 2)
    contact_id = client.post("/api/contacts/search", json={"call_sid": sid}, headers=ana).json()[
        "items"
    ][0]["id"]
    anonymous = filed_request(
        client,
        ana,
        service_code="pothole",
        address="5 Elm St",
        anonymous=True,
        description="Deep hole by the bus stop",
    )
    named = filed_request(
        client,
        ana,
        service_code="pothole",
        address="7 Elm St",
        call_sid=sid,
        contact={"phone": CALLER},
    )
    wrapped = client.post(
        f"/api/contacts/{contact_id}/wrap-up",
        json={
            "resolution": "request_filed",
            "request_ids": [anonymous["id"], named["id"]],
            "topics": ["pothole"],
        },
        headers=ana,
    )
    assert wrapped.status_code == 200, wrapped.text
    assert wrapped.json()["request_ids"] == [named["id"]]
    assert wrapped.json()["anonymous_requests"] == 1
    assert anonymous["id"] not in wrapped.text
    entry = audit_entries(context, AuditEntry.action == "contact.wrap_up")[-1]
    assert anonymous["id"] not in str(entry.detail) and entry.object_id == contact_id

    # The privacy officer's access request for the caller's number.
    exported = access_export(client, officer, {"phone": CALLER})
    data = exported.json()
    [shown] = data["contacts"]
    assert shown["id"] == contact_id and shown["requests"] == [named["id"]]
    assert shown["anonymous_requests"] == 1
    assert {r["id"] for r in data["service_requests"]} == {named["id"]}
    assert anonymous["id"] not in exported.text
    assert "Deep hole by the bus stop" not in exported.text


def test_texts_from_a_number_are_one_sms_contact_per_day(
    client: TestClient,
    twilio: TwilioClient,
    agent: dict[str, str],
    clock: ManualClock,
    context: AppContext,
) -> None:
    knowledge_topics(context, "bulk-pickup")

    def text(body: str) -> None:
        response = twilio.text("(302) 555-0161", body)
        assert response.status_code == 200, response.text

    text("Is the crew still coming?")
    clock.advance(timedelta(hours=1))
    text("Also the light is out")
    text("HELP")  # a keyword is not a conversation
    clock.advance(timedelta(days=1))
    text("Thanks, they came")
    since = datetime(2026, 11, 1, tzinfo=UTC).isoformat()
    found = client.post("/api/contacts/search", json={"since": since}, headers=agent).json()
    sms = [c for c in found["items"] if c["channel"] == "sms"]
    assert len(sms) == 2
    newest, first = sms
    assert first["ended_at"] > first["started_at"]
    assert newest["started_at"][:10] != first["started_at"][:10]
    assert first["agent"] is None
    answered = client.post(
        f"/api/contacts/{first['id']}/wrap-up",
        json={"resolution": "information_provided", "topics": ["bulk-pickup"]},
        headers=agent,
    )
    assert answered.status_code == 200 and answered.json()["agent"] == "ana"


def test_contacts_follow_their_own_schedule_unless_held(
    client: TestClient,
    twilio: TwilioClient,
    agent: dict[str, str],
    officer: dict[str, str],
    context: AppContext,
) -> None:
    for _ in range(2):
        made = client.post("/api/contacts", json={"channel": "email"}, headers=agent)
        assert made.status_code == 201
    texted = twilio.text(CALLER, "Is the crew still coming?")
    assert texted.status_code == 200
    hold = client.post(
        "/api/holds",
        json={"target_type": "person", "person": {"phone": CALLER}, "reason": "Claim 2026-7"},
        headers=officer,
    )
    assert hold.status_code == 201, hold.text
    now = context.clock.now()
    kept = run_retention(context, audit.SYSTEM, as_of=now + timedelta(days=365))
    assert kept.counts.get("contacts", 0) == 0
    report = run_retention(context, audit.SYSTEM, as_of=now + timedelta(days=3 * 366))
    assert report.counts.get("contacts") == 2 and report.held.get("contacts") == 1
    with context.db() as session:
        left = session.scalars(sa.select(Contact.channel)).all()
    assert left == ["sms"]


def test_recordings_and_qa_know_the_agent_who_answered(
    client: TestClient,
    twilio: TwilioClient,
    staff: StaffFactory,
    clock: ManualClock,
    supervisor: dict[str, str],
    context: AppContext,
) -> None:
    from tests.services.recordings.test_qa import FORM

    admin = staff.headers("admin", "root")
    make_agent(client, staff, admin, "ana", "client:ana")
    make_agent(client, staff, admin, "bob", "client:bob", department="2")
    sid = twilio.ring(From=CALLER)
    twilio.press(sid, "1", From=CALLER)
    recording_sid = stored_recording(
        context,
        sid,
        "RE" + "c" * 32,
        twilio_duration_seconds=60,
        duration_seconds=60.0,
        attempts=1,
    )
    leg_event(twilio, sid, call_sid(), "in-progress", "client:ana", clock.now(), 2)
    listed = client.get("/api/recordings", headers=supervisor).json()["items"]
    assert [(r["recording_sid"], r["agent"]) for r in listed] == [(recording_sid, "ana")]
    # The call log shows who answered, on the caller's leg and the agent's.
    logged = client.get("/api/calls", headers=supervisor).json()["items"]
    assert [c["agent"] for c in logged] == ["ana", "ana"]
    by_bob = client.get("/api/calls", params={"agent": "bob"}, headers=supervisor).json()
    assert by_bob["items"] == []
    by_ana = client.get("/api/calls", params={"agent": "ana"}, headers=supervisor).json()
    assert len(by_ana["items"]) == 2
    form = client.post("/api/qa/forms", json=FORM, headers=supervisor).json()
    answers = {"greeting": "yes", "notice": "na", "accuracy": 4, "no_ssn": "yes"}
    url = f"/api/recordings/{recording_sid}/evaluations"
    wrong = client.post(
        url, json={"form_id": form["id"], "agent": "bob", "answers": answers}, headers=supervisor
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "agent"
    scored = client.post(url, json={"form_id": form["id"], "answers": answers}, headers=supervisor)
    assert scored.status_code == 201, scored.text
    assert scored.json()["agent"] == "ana"
