"""The console's pages over the test client: who sees what, CSRF on console forms, the
screen pop's event stream, and the dashboard's numbers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.app.factory import create_app
from services.contacts.service import RESOLUTIONS
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.roles import Role
from services.reports.service import DateRange, call_report
from services.staff import service as staff_service
from services.staff.models import StaffSession
from tests.support import (
    PUBLIC_URL,
    TwilioClient,
    audit_entries,
    call_sid,
    knowledge_topics,
    make_settings,
    running,
    served,
)

PASSWORD = "a long enough password"


@pytest.fixture
def console_context(sqlite_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[AppContext]:
    settings = make_settings(sqlite_url, tmp_path / "var", console_stream_seconds=1.5)
    with running(settings, clock) as context:
        yield context


@pytest.fixture
def app_client(console_context: AppContext) -> Iterator[TestClient]:
    with served(console_context) as client:
        yield client


def account(context: AppContext, name: str, role: Role, extension: str | None = None) -> None:
    with context.db.begin() as session:
        user = staff_service.create_user(
            session, username=name, role=role, password=PASSWORD, now=context.clock.now()
        )
        user.extension = extension


def signed_in(app: Any, name: str) -> TestClient:
    client = TestClient(app, base_url=PUBLIC_URL)
    response = client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found is not None
    return found[1]


def nav_links(page: str) -> list[str]:
    nav = page.split('<nav class="side"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', nav)


def test_each_role_sees_only_its_pages_and_is_refused_the_others(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    account(console_context, "sam", Role.SUPERVISOR)
    account(console_context, "pia", Role.PRIVACY_OFFICER)
    account(console_context, "ada", Role.ADMIN)
    agent = signed_in(app_client.app, "ana")

    home = agent.get("/console/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/console/workspace"
    live = agent.get("/console/live")
    assert live.status_code == 200
    assert '<html lang="en">' in live.text
    links = nav_links(live.text)
    assert "/console/requests/new" in links and "/console/requests/search" in links
    assert "/console/recordings" not in links
    assert "/console/audit" not in links and "/console/admin/staff" not in links
    assert "/console/admin/approvals" not in links

    refused = agent.get("/console/recordings")
    assert refused.status_code == 403
    assert "not open to your role" in refused.text
    assert "/console/recordings" not in nav_links(refused.text)
    denial = audit_entries(console_context, AuditEntry.action == "access.denied")[-1]
    assert denial.actor_name == "ana"
    assert denial.detail["route"] == "/console/recordings"

    supervisor = signed_in(app_client.app, "sam")
    recordings = supervisor.get("/console/recordings")
    assert recordings.status_code == 200
    assert {"/console/recordings", "/console/dashboard", "/console/calls"} <= set(
        nav_links(recordings.text)
    )
    officer = signed_in(app_client.app, "pia")
    officer_links = nav_links(officer.get("/console/audit").text)
    assert {
        "/console/audit",
        "/console/privacy/requests",
        "/console/privacy/holds",
        "/console/privacy/disclosures",
    } <= set(officer_links)
    assert "/console/admin/retention" not in officer_links
    assert "/console/admin/approvals" in officer_links  # the second person for accounts
    approvals = officer.get("/console/admin/approvals")
    assert approvals.status_code == 200 and "admin-approvals.js" in approvals.text
    assert officer.get("/console/requests/new").status_code == 403
    assert supervisor.get("/console/privacy/requests").status_code == 403
    assert "/console/privacy/holds" not in nav_links(recordings.text)
    admin = signed_in(app_client.app, "ada")
    admin_links = nav_links(admin.get("/console/admin/staff").text)
    assert "/console/admin/extensions" in admin_links and "/console/admin/services" in admin_links
    assert "/console/admin/retention" in admin_links and "/console/admin/approvals" in admin_links
    assert admin.get("/console/admin/retention").status_code == 200
    assert admin.get("/console/privacy/holds").status_code == 403
    assert "/console/calls" not in admin_links and "/console/requests/search" not in admin_links
    assert admin.get("/console/calls").status_code == 403


def test_without_a_session_a_page_offers_the_sign_in_form_in_place(
    app_client: TestClient,
) -> None:
    page = app_client.get("/console/recordings")
    assert page.status_code == 401
    assert 'id="sign-in"' in page.text and 'data-reload="yes"' in page.text
    assert app_client.get("/console/", follow_redirects=False).headers["location"] == (
        "/console/sign-in"
    )
    assert app_client.get("/console/sign-in").status_code == 200


def test_pages_load_only_their_own_scripts_and_styles(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    agent = signed_in(app_client.app, "ana")
    page = agent.get("/console/requests/new").text
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all('src="/static/' in attrs for attrs in scripts)
    assert " style=" not in page and "<style" not in page
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', page) == ["/static/console.css"]
    for asset in ("/static/console.js", "/static/console.css", "/static/request-form.js"):
        served = app_client.get(asset)
        assert served.status_code == 200
        assert "script-src 'self'" in served.headers["content-security-policy"]
    # Every field has a label.
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', page))
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    assert ids and ids <= labelled
    assert page.count("(optional)") >= 6


def test_console_forms_need_the_sessions_csrf_token(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    agent = signed_in(app_client.app, "ana")
    token = csrf_of(agent.get("/console/requests/new").text)
    body = {"service_code": "pothole", "anonymous": True, "description": "A deep one"}
    without = agent.post("/api/requests", json=body)
    assert without.status_code == 403
    assert "CSRF" in without.json()["detail"]
    filed = agent.post("/api/requests", json=body, headers={"X-CSRF-Token": token})
    assert filed.status_code == 201, filed.text

    forged = agent.post("/console/sign-out", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert agent.get("/api/session").status_code == 200
    denied = audit_entries(console_context, AuditEntry.action == "access.denied")[-1].detail
    assert denied == {
        "reason": "csrf",
        "permission": "session",
        "method": "POST",
        "route": "/console/sign-out",
    }
    out = agent.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert agent.get("/api/session").status_code == 401
    with console_context.db() as session:
        ended = session.scalars(sa.select(StaffSession.end_reason)).all()
    assert ended == ["signed out"]


def test_a_session_that_must_enrol_a_second_factor_gets_the_enrolment_page(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(sqlite_url, tmp_path / "var", require_second_factor=True)
    with running(settings, clock) as context:
        account(context, "sam", Role.SUPERVISOR)
        with served(context):
            supervisor = signed_in(create_app(context), "sam")
            page = supervisor.get("/console/recordings")
            assert page.status_code == 403
            assert 'id="enrol-start"' in page.text
            assert csrf_of(page.text)


def events_of(stream: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for block in stream.split("\n\n"):
        lines = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_the_event_stream_pops_a_call_ringing_on_the_agents_extension(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    agent = signed_in(app_client.app, "ana")
    token = csrf_of(agent.get("/console/live").text)
    earlier = agent.post(
        "/api/requests",
        json={
            "service_code": "pothole",
            "description": "Deep pothole",
            "contact": {"phone": "(202) 555-0142"},
        },
        headers={"X-CSRF-Token": token},
    )
    assert earlier.status_code == 201, earlier.text
    twilio = TwilioClient(app_client)
    known, withheld, elsewhere = call_sid(), call_sid(), call_sid()
    for sid, caller, digits in (
        (known, "+12025550142", "3"),
        (withheld, "anonymous", "3"),
        (elsewhere, "+13025550199", "2"),
    ):
        twilio.ring(sid, From=caller)
        twilio.press(sid, digits, From=caller)

    stream = agent.get("/console/events", headers={"Accept": "text/event-stream"})
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = events_of(stream.text)
    assert events[0] == ("status", {"extension": "3"})
    rings = [data for name, data in events if name == "ring"]
    assert [ring["call_sid"] for ring in rings] == [known, withheld]
    assert rings[0]["from_number"] == "+12025550142"
    assert [request["id"] for request in rings[0]["requests"]] == [earlier.json()["id"]]
    assert rings[1]["caller_withheld"] is True
    assert rings[1]["from_number"] is None and rings[1]["requests"] == []
    pops = audit_entries(console_context, AuditEntry.action == "call.screen_pop")
    assert sorted((pop.object_id, pop.detail) for pop in pops) == sorted(
        [(known, {"results": 1, "via": "console"}), (withheld, {"results": 0, "via": "console"})]
    )

    twilio.post(
        "/twilio/voice/status",
        twilio.call_params(known, "completed", CallDuration="30", SequenceNumber="5"),
    )
    snapshot = agent.get("/console/events").json()
    assert snapshot["extension"] == "3"
    assert [ring["call_sid"] for ring in snapshot["ringing"]] == [withheld]


def test_an_agent_without_an_extension_is_told_so(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "bea", Role.AGENT)
    agent = signed_in(app_client.app, "bea")
    stream = agent.get("/console/events", headers={"Accept": "text/event-stream"})
    assert events_of(stream.text) == [("status", {"extension": None})]


def test_the_dashboard_counts_answered_and_abandoned_calls_and_handle_time(
    app_client: TestClient, console_context: AppContext, clock: ManualClock
) -> None:
    twilio = TwilioClient(app_client)
    answered, abandoned = call_sid(), call_sid()
    for sid in (answered, abandoned):
        twilio.ring(sid)
        twilio.press(sid, "3")
    # Someone at extension 3 picks the first call up and talks for two minutes; nobody
    # answers the second, and its caller hangs up.
    leg = call_sid()
    for status, extra in (
        ("ringing", {}),
        ("in-progress", {}),
        ("completed", {"CallDuration": "120"}),
    ):
        twilio.post(
            "/twilio/voice/status",
            twilio.call_params(
                leg, status, ParentCallSid=answered, Direction="outbound-dial", **extra
            ),
        )
    for sid in (answered, abandoned):
        twilio.post(
            "/twilio/voice/status",
            twilio.call_params(sid, "completed", CallDuration="150", SequenceNumber="9"),
        )
    today = clock.now().astimezone(console_context.city_tz).date()
    with console_context.db() as session:
        by_extension = call_report(
            session, DateRange(today, today), by="extension", tz=console_context.city_tz
        )
        by_day = call_report(
            session,
            DateRange(today - timedelta(days=2), today),
            by="day",
            tz=console_context.city_tz,
        )
    assert [(r.key, r.calls, r.answered, r.abandoned) for r in by_extension] == [("3", 2, 1, 1)]
    assert by_extension[0].avg_handle_seconds == 120.0
    assert [r.calls for r in by_day] == [0, 0, 2]

    account(console_context, "sam", Role.SUPERVISOR)
    supervisor = signed_in(app_client.app, "sam")
    page = supervisor.get(
        "/console/dashboard", params={"start": today.isoformat(), "by": "extension"}
    )
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    # Durations as people read them (issue 14), in the table and on the chart's axis.
    assert '<th scope="row">3</th><td>2</td><td>1</td><td>1</td><td>2 min 00 s</td>' in page.text
    assert ">2 min 00 s</text>" in page.text
    backwards = supervisor.get(
        "/console/dashboard", params={"start": "2026-12-01", "end": "2026-11-01"}
    )
    assert "Choose a start on or before the end" in backwards.text


def test_the_dashboard_refuses_dates_no_record_can_have(app_client: TestClient) -> None:
    account(app_client.app.state.context, "sam", Role.SUPERVISOR)
    supervisor = signed_in(app_client.app, "sam")
    for params in ({"end": "0001-01-01"}, {"start": "9999-12-31"}, {"end": "9999-12-31"}):
        page = supervisor.get("/console/dashboard", params=params)
        assert page.status_code == 422, (params, page.status_code)


def test_the_catalogue_page_lists_retired_services_so_they_can_be_offered_again(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "ada", Role.ADMIN)
    admin = signed_in(app_client.app, "ada")
    page = admin.get("/console/admin/services")
    token = csrf_of(page.text)
    assert 'data-service="pothole" checked' in page.text
    retired = admin.patch(
        "/api/services/pothole", json={"active": False}, headers={"X-CSRF-Token": token}
    )
    assert retired.status_code == 200
    page = admin.get("/console/admin/services").text
    assert 'data-service="pothole">' in page  # listed, not ticked
    account(console_context, "ana", Role.AGENT)
    new_request = signed_in(app_client.app, "ana").get("/console/requests/new").text
    assert 'value="pothole"' not in new_request  # nobody files against a retired service


def test_agents_set_their_presence_from_the_navigation_and_administrators_have_none(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "cleo", Role.AGENT)
    account(console_context, "root", Role.ADMIN)
    agent = signed_in(app_client.app, "cleo")
    page = agent.get("/console/live").text
    assert "data-presence" in page and 'value="available"' in page
    changed = agent.put(
        "/api/me/presence", json={"state": "available"}, headers={"X-CSRF-Token": csrf_of(page)}
    )
    assert changed.status_code == 200 and changed.json()["state"] == "available"
    unsigned = agent.put("/api/me/presence", json={"state": "away"})
    assert unsigned.status_code == 403  # the console session needs its CSRF token
    assert agent.get("/api/me/presence").json()["state"] == "available"
    admin = signed_in(app_client.app, "root")
    staff_page = admin.get("/console/admin/staff").text
    assert "data-presence" not in staff_page
    assert 'name="destination"' in staff_page and 'name="department"' in staff_page


def test_the_knowledge_page_searches_for_everyone_and_edits_for_editors(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    account(console_context, "kim", Role.KNOWLEDGE_EDITOR)
    account(console_context, "ada", Role.ADMIN)
    editor = signed_in(app_client.app, "kim")
    home = editor.get("/console/", follow_redirects=False)
    assert home.headers["location"] == "/console/knowledge"
    page = editor.get("/console/knowledge").text
    assert nav_links(page) == ["/console/knowledge"]  # answers, and nothing about callers
    assert 'id="kb-editor"' in page and 'src="/static/knowledge.js"' in page
    assert '<option value="pothole">' in page  # the service to file, from the catalogue
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', page))
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    assert (
        ids
        and ids <= labelled
        and len(ids) == len(re.findall(r'<(?:input|select|textarea)[^>]* id="', page))
    )

    agent = signed_in(app_client.app, "ana")
    read_only = agent.get("/console/knowledge")
    assert read_only.status_code == 200
    assert "/console/knowledge" in nav_links(read_only.text)
    assert 'id="kb-search"' in read_only.text and 'id="kb-editor"' not in read_only.text
    admin = signed_in(app_client.app, "ada")
    assert admin.get("/console/knowledge").status_code == 403
    assert app_client.get("/static/knowledge.js").status_code == 200


def test_an_agent_wraps_up_from_the_console_and_the_report_counts_it(
    app_client: TestClient, console_context: AppContext
) -> None:
    knowledge_topics(console_context, "snow-removal")
    account(console_context, "cleo", Role.AGENT)
    account(console_context, "sam", Role.SUPERVISOR)
    account(console_context, "pia", Role.PRIVACY_OFFICER)
    agent = signed_in(app_client.app, "cleo")
    page = agent.get("/console/contacts")
    assert page.status_code == 200 and 'id="wrap-up-form"' in page.text
    assert "/console/contacts" in nav_links(page.text)
    assert 'data-agent="cleo"' in page.text and "contacts.js" in page.text
    officer = signed_in(app_client.app, "pia")
    assert officer.get("/console/contacts").status_code == 403
    csrf = {"X-CSRF-Token": csrf_of(page.text)}
    made = agent.post("/api/contacts", json={"channel": "walk_in"}, headers=csrf)
    assert made.status_code == 201, made.text
    # What contacts.js sends for the form: topics and requests split at commas.
    wrapped = agent.post(
        f"/api/contacts/{made.json()['id']}/wrap-up",
        json={"resolution": "information_provided", "topics": ["snow-removal"], "request_ids": []},
        headers=csrf,
    )
    assert wrapped.status_code == 200, wrapped.text
    supervisor = signed_in(app_client.app, "sam")
    report = supervisor.get(
        "/api/reports/contacts", params={"start": "2026-11-18", "end": "2026-11-18"}
    ).json()
    assert report["by_topic"] == [{"key": "snow-removal", "count": 1}]
    assert report["inquiries_and_requests"]["inquiries"] == 1


def test_communications_staff_get_the_news_alerts_page_and_nothing_of_callers(
    app_client: TestClient, console_context: AppContext
) -> None:
    account(console_context, "cora", Role.COMMUNICATIONS)
    communications = signed_in(app_client.app, "cora")
    home = communications.get("/console/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/console/alerts"
    page = communications.get("/console/alerts")
    assert page.status_code == 200 and "alerts.js" in page.text
    assert nav_links(page.text) == ["/console/alerts"]
    assert communications.get("/console/requests/search").status_code == 403
    assert communications.get("/console/messages").status_code == 403


def test_the_email_page_shows_what_the_console_gateway_kept_only_when_it_keeps_anything(
    app_client: TestClient,
    console_context: AppContext,
    sqlite_url: str,
    tmp_path: Path,
    clock: ManualClock,
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    account(console_context, "ada", Role.ADMIN)
    agent = signed_in(app_client.app, "ana")
    page = agent.get("/console/email")
    assert page.status_code == 200 and "email.js" in page.text
    assert "/console/email" in nav_links(page.text)
    assert "Kept by the console gateway" in page.text and 'id="kept"' in page.text
    admin = signed_in(app_client.app, "ada")
    assert admin.get("/console/email").status_code == 403
    assert "/console/email" not in nav_links(admin.get("/console/admin/staff").text)

    # With SMTP nothing is kept, so there is nothing to show but the outbox.
    settings = make_settings(
        sqlite_url, tmp_path / "smtp", email_gateway="smtp", smtp_url="smtp://127.0.0.1:1"
    )
    with running(settings, clock) as smtp_context, served(smtp_context) as smtp_client:
        account(smtp_context, "sam", Role.SUPERVISOR)
        page = signed_in(smtp_client.app, "sam").get("/console/email")
        assert page.status_code == 200 and 'id="email-outbox"' in page.text
        assert "Kept by the console gateway" not in page.text and 'id="kept"' not in page.text


def test_outcomes_are_the_contact_logs_own_wherever_they_are_shown_or_chosen(
    app_client: TestClient, console_context: AppContext
) -> None:
    """The wrap-up forms offer, and the pages that show contacts name, exactly the
    outcomes the contact log accepts, from one list (contacts.service.RESOLUTIONS)."""
    account(console_context, "cleo", Role.AGENT)
    agent = signed_in(app_client.app, "cleo")
    for path in (
        "/console/contacts",
        "/console/workspace",
        "/console/calls",
        "/console/requests/SR-AAAAA-BBBBB",
    ):
        page = agent.get(path)
        assert page.status_code == 200, path
        names = page.text.split('<ul id="resolution-names" hidden>', 1)[1].split("</ul>", 1)[0]
        assert re.findall(r'data-code="([a-z_]+)"', names) == list(RESOLUTIONS), path
        assert "Caller hung up" in names
        if path in ("/console/contacts", "/console/workspace"):
            select = page.text.split('<select id="f-resolution"', 1)[1].split("</select>", 1)[0]
            assert re.findall(r'<option value="([a-z_]+)"', select) == list(RESOLUTIONS), path


def test_the_wallboard_is_audited_once_per_opening_not_per_stream(
    app_client: TestClient, console_context: AppContext
) -> None:
    """Opening the page is the supervisor's act, audited; its event stream (and each time
    it reconnects, every few minutes all day) carries counts and staff names only."""
    account(console_context, "sam", Role.SUPERVISOR)
    supervisor = signed_in(app_client.app, "sam")
    assert supervisor.get("/console/wallboard").status_code == 200
    for _ in range(2):  # the stream, then the stream again as it reconnects
        stream = supervisor.get("/console/wallboard/events")
        assert stream.status_code == 200
        assert [name for name, _ in events_of(stream.text)][:1] == ["board"]
    opened = audit_entries(console_context, AuditEntry.object_id == "wallboard")
    assert [entry.action for entry in opened] == ["report.read"]
    # The stream stays closed to those who may not open the page, and that is audited.
    account(console_context, "ana", Role.AGENT, "3")
    agent = signed_in(app_client.app, "ana")
    assert agent.get("/console/wallboard/events").status_code == 403
    denial = audit_entries(console_context, AuditEntry.action == "access.denied")[-1]
    assert denial.detail["route"] == "/console/wallboard/events"
