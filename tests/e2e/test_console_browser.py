"""The console in a real browser (Debian's Chromium through Playwright) against a real
`switchboard serve`: the scenarios staff go through every day.

One server and one browser serve the whole module; each test opens its own browser
context (its own cookies) and saves a screenshot under var/screenshots/.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.requests.models import RequestCall, RequestContact, ServiceRequest
from tests.audio import call_recording
from tests.e2e.browser import (
    GREETING,
    PASSWORD,
    Console,
    address_of,
    assert_accessible,
    screenshot,
    sign_in,
)
from tests.fakes.twilio_api import FakeTwilio
from tests.support import CITY, call_sid, recording_params

sync_api = pytest.importorskip("playwright.sync_api")


def test_an_agent_signs_in_and_lands_on_the_workspace(page: Any) -> None:
    page.goto("/console/")
    assert page.url.endswith("/console/sign-in")
    page.get_by_label("Username", exact=True).fill("ana")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("[data-form-error]")).to_contain_text("Wrong username")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/workspace")
    sync_api.expect(page.locator("#ws-status")).to_have_text("Waiting for calls on extension 3.")
    sync_api.expect(page.get_by_role("navigation")).not_to_contain_text("Recordings")


def test_a_ringing_call_pops_with_the_callers_earlier_requests(page: Any, console: Console) -> None:
    earlier = console.file_request(
        service_code="streetlight",
        description="Light out at the corner",
        address="12 Elm St",
        contact={"phone": "(202) 555-0161"},
    )
    sign_in(page, "ana")
    page.goto("/console/live")
    sync_api.expect(page.locator("#live-status")).to_contain_text("Waiting for calls")
    base = console.ring("+12025550161")
    pop = page.locator(".pop").first
    sync_api.expect(pop).to_contain_text("(202) 555-0161")  # as people write it
    sync_api.expect(pop).to_contain_text(earlier)
    sync_api.expect(pop).to_contain_text("Incoming call on extension 3")

    console.ring("anonymous")
    sync_api.expect(page.locator(".pop").first).to_contain_text("Number withheld")
    console.webhook(
        "/twilio/voice/status",
        {**base, "CallStatus": "completed", "CallDuration": "40", "SequenceNumber": "9"},
    )
    sync_api.expect(page.locator(".pop.ended")).to_have_count(1)


def screen_pops_of(console: Console, sid: str) -> int:
    """How many times the audit trail says the caller's history was shown for ``sid``."""
    trail = console.api(
        "GET",
        "/api/audit",
        console.tokens["pia"],
        params={"action": "call.screen_pop", "object_id": sid},
    )
    assert trail.status_code == 200, trail.text
    return len(trail.json()["items"])


def test_one_ring_is_one_audit_entry_on_the_screen_pop_and_the_workspace(
    page: Any, console: Console
) -> None:
    """The screen pop's page and the call bar on it each opened an event stream, so
    one ring was audited twice; the workspace's page did the same."""
    bar_caller = page.locator("[data-call-caller]")
    on_workspace = call_sid()
    sign_in(page, "ana")
    page.goto(f"/console/workspace?call={on_workspace}")  # the call rings once it is open
    sync_api.expect(page.locator("#ws-status")).to_have_text("Showing this call.")
    console.ring("+12025550171", sid=on_workspace)
    sync_api.expect(bar_caller).to_contain_text("(202) 555-0171")
    sync_api.expect(page.locator("#ws-status")).to_have_text("This call is open here.")
    time.sleep(1.5)  # a second stream would have shown it by now (it polls each second)
    assert screen_pops_of(console, on_workspace) == 1

    page.goto("/console/live")
    sync_api.expect(page.locator(f'.pop[data-call-sid="{on_workspace}"]')).to_have_count(1)
    on_live = console.ring("+12025550172")["CallSid"]
    sync_api.expect(page.locator(f'.pop[data-call-sid="{on_live}"]')).to_contain_text(
        "(202) 555-0172"
    )
    sync_api.expect(bar_caller).to_contain_text("(202) 555-0172")
    time.sleep(1.5)
    assert screen_pops_of(console, on_live) == 1
    # The page that loaded while the first call rang showed it once more: its own ring.
    assert screen_pops_of(console, on_workspace) == 2


def test_an_anonymous_request_keeps_no_contact_and_ssns_are_refused(
    page: Any, console: Console
) -> None:
    sign_in(page, "ana")
    page.goto("/console/requests/new")
    page.get_by_label("Service", exact=True).select_option("pothole")
    page.get_by_label("Name (optional)", exact=True).fill("Rosa Parks")
    page.get_by_label("Phone (optional)", exact=True).fill("(202) 555-0177")
    page.get_by_label("What is the problem?").fill("Caller read out 123-45-6789 by mistake")
    page.get_by_role("button", name="File the request").click()
    error = page.locator('[data-error-for="description"]')
    sync_api.expect(error).to_contain_text("looks like a Social Security number")

    page.get_by_label("What is the problem?").fill("Deep pothole outside the library")
    page.get_by_label("Text them, at the mobile number above").check()
    page.get_by_role("switch").check()
    sync_api.expect(page.locator("#anonymous-note")).to_contain_text("Not kept for this request")
    sync_api.expect(page.locator("#contact")).to_be_hidden()
    page.get_by_role("button", name="File the request").click()
    filed = page.locator("#filed")
    sync_api.expect(filed).to_contain_text("Anonymous: no contact details")
    public_id = filed.locator("strong").inner_text()

    engine = sa.create_engine(console.database_url)
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(ServiceRequest.id, ServiceRequest.anonymous).where(
                ServiceRequest.public_id == public_id
            )
        ).one()
        contacts = connection.execute(
            sa.select(sa.func.count())
            .select_from(RequestContact)
            .where(RequestContact.request_id == row.id)
        ).scalar_one()
        links = connection.execute(
            sa.select(sa.func.count())
            .select_from(RequestCall)
            .where(RequestCall.request_id == row.id)
        ).scalar_one()
    engine.dispose()
    assert row.anonymous is True
    assert (contacts, links) == (0, 0)
    # The consent ticked before the switch went with the contact: nothing to follow.
    request = console.api("GET", f"/api/requests/{public_id}", console.agent_token).json()
    assert request["updates"] == []


def test_the_caller_is_asked_about_updates_and_the_answer_is_read_back(
    page: Any, console: Console
) -> None:
    sign_in(page, "ana")
    page.goto("/console/requests/new")
    page.get_by_label("Service", exact=True).select_option("streetlight")
    page.get_by_label("What is the problem?").fill("Light out at the corner")
    page.get_by_label("Phone (optional)", exact=True).fill("(302) 555-0162")
    page.get_by_label("Email them, at the email above").check()
    page.get_by_role("button", name="File the request").click()
    # An email is asked for, by the field, and nothing is filed.
    sync_api.expect(page.locator('[data-error-for="updates.email"]')).not_to_be_empty()
    sync_api.expect(page.locator("#filed")).to_be_hidden()
    page.get_by_label("Email (optional)", exact=True).fill("kai@example.org")
    page.get_by_label("Text them, at the mobile number above").check()
    page.get_by_label("Language of the updates").select_option("es")
    page.get_by_role("button", name="File the request").click()
    filed = page.locator("#filed")
    sync_api.expect(filed).to_contain_text("Read to the caller")
    assert filed.locator("p", has_text="Read to the caller").count() == 2
    public_id = filed.locator("strong").inner_text()
    assert_accessible(page, "a request filed with updates by text and email")
    request = console.api("GET", f"/api/requests/{public_id}", console.agent_token).json()
    consents = {(u["channel"], u["language"], u["consent_by"]) for u in request["updates"]}
    assert consents == {("sms", "es", "ana"), ("email", "es", "ana")}


def test_an_agent_finds_earlier_requests_by_phone_and_by_email(page: Any, console: Console) -> None:
    tag = secrets.token_hex(3)
    found = console.file_request(
        service_code="missed-trash",
        description="Bins missed again",
        contact={"name": "Lee Chan", "phone": "202-555-0188", "email": f"Lee.{tag}@Example.org"},
    )
    sign_in(page, "ana")
    page.goto("/console/requests/search")
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Search for").fill("(202) 555 0188")
    page.get_by_role("button", name="Search").click()
    sync_api.expect(page.locator("#results")).to_contain_text(found)
    sync_api.expect(page.locator("#results")).to_contain_text("Lee Chan · (202) 555-0188")
    assert "555" not in address_of(page)

    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Search for").fill(f"lee.{tag}@example.org")
    page.get_by_role("button", name="Search").click()
    # This search's own answer: the phone search showed the same row.
    sync_api.expect(page.locator("#results-status")).to_have_text("1 request found by email.")
    sync_api.expect(page.locator("#results")).to_contain_text(found)
    sync_api.expect(page.locator("#results tbody tr")).to_have_count(1)

    # The call taker moves the request on from the results, with a note.
    page.get_by_label(f"Status of {found}").select_option("in_progress")
    page.get_by_label(f"Note on {found}").fill("SSN 219-09-9999")
    page.get_by_role("button", name=f"Update {found}").click()
    sync_api.expect(page.locator("#results")).to_contain_text("Social Security")
    before = console.api("GET", f"/api/requests/{found}", console.agent_token).json()
    page.get_by_label(f"Note on {found}").fill("Crew booked for Tuesday")
    # A double click sends one change (the button is disabled while it is sent).
    page.get_by_role("button", name=f"Update {found}").dblclick()
    sync_api.expect(page.locator("#results")).to_contain_text("Updated.")
    sync_api.expect(page.get_by_role("button", name=f"Update {found}")).to_be_enabled()
    request = console.api("GET", f"/api/requests/{found}", console.agent_token).json()
    assert len(request["history"]) == len(before["history"]) + 1, request["history"]
    assert request["status"] == "in_progress", request
    assert request["history"][-1]["note"] == "Crew booked for Tuesday"
    assert request["history"][-1]["public"] is False  # notes are private unless published
    assert request["status_notes"] is None

    # Publishing is a choice the console names plainly.
    page.get_by_label(f"Note on {found}").fill("Crew booked for Tuesday")
    page.get_by_label("anyone can read it on the city's public Open311 feed").check()
    page.get_by_role("button", name=f"Update {found}").click()
    sync_api.expect(page.locator("#results")).to_contain_text("Updated.")
    request = console.api("GET", f"/api/requests/{found}", console.agent_token).json()
    assert request["history"][-1]["public"] is True
    assert request["status_notes"] == "Crew booked for Tuesday"

    # So is publishing the description, after reading it.
    page.get_by_label(f"Public description of {found}", exact=True).fill("Pothole, reviewed")
    page.get_by_role("button", name=f"Publish the public description of {found}").click()
    sync_api.expect(page.locator("#results")).to_contain_text("Published.")
    request = console.api("GET", f"/api/requests/{found}", console.agent_token).json()
    assert request["public_description"] == "Pothole, reviewed"


def test_booking_previews_the_text_and_it_reaches_the_outbox(page: Any, console: Console) -> None:
    request_id = console.file_request(service_code="bulk-pickup", description="A sofa")
    sign_in(page, "ana")
    page.goto("/console/appointments")
    tomorrow = (datetime.now(CITY) + timedelta(days=2)).date().isoformat()
    page.get_by_label("Request number").fill(request_id)
    page.get_by_label("Date", exact=True).fill(tomorrow)
    page.get_by_label("From", exact=True).fill("09:00")
    page.get_by_label("To", exact=True).fill("11:00")
    page.get_by_label("Where", exact=True).fill("Curbside at the front door")
    page.get_by_label("Caller's mobile number").fill("(202) 555-0190")
    page.get_by_role("button", name="Show the text").click()
    sync_api.expect(page.locator("#preview")).to_contain_text(request_id)
    page.get_by_role("button", name="Book and send the confirmation").click()
    sync_api.expect(page.locator('[data-error-for="consent"]')).to_contain_text("agree")
    page.get_by_label("The caller agrees to get texts").check()
    page.get_by_role("button", name="Book and send the confirmation").click()
    sync_api.expect(page.locator("#booked")).to_contain_text("Booked")
    page.get_by_role("link", name="See the texts in the outbox").click()
    page.wait_for_url("**/console/messages")
    outbox = page.locator("#outbox")
    sync_api.expect(outbox).to_contain_text(request_id)
    sync_api.expect(outbox).to_contain_text("(202) 555-0190")


def playing_past(page: Any, seconds: float) -> None:
    """Wait until the player is past ``seconds`` (polled from here: the page's CSP
    rightly forbids the eval that wait_for_function would need)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if page.evaluate("() => document.getElementById('audio').currentTime") > seconds:
            return
        time.sleep(0.1)
    pytest.fail(f"the recording did not play past {seconds} s")


def test_a_supervisor_plays_a_recording_and_scores_it(
    page: Any, console: Console, fake_twilio_server: FakeTwilio
) -> None:
    rsid = "RE" + secrets.token_hex(16)
    base = console.ring("+12025550142")
    sid = base["CallSid"]
    fake_twilio_server.holds_recording(rsid, call_recording(12.0))
    callback = console.webhook("/twilio/recordings", recording_params(sid, rsid, seconds=12))
    assert callback.status_code == 204, callback.text
    console.processed_recording(rsid)
    console.qa_form(
        GREETING,
        {"id": "clarity", "text": "Spoke clearly", "kind": "scale", "weight": 2, "scale_max": 5},
    )

    sign_in(page, "sam")
    page.goto("/console/recordings")
    page.locator(f'a[href="/console/recordings/{rsid}"]').click()
    page.wait_for_url(f"**/console/recordings/{rsid}")
    sync_api.expect(page.locator("#recording-status")).to_have_text("Ready to play.")
    sync_api.expect(page.locator(".activity-bar")).to_have_count(2)
    page.get_by_role("button", name="Play").click()
    playing_past(page, 1)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Forward 10 s").click()  # a seek: a Range request
    playing_past(page, 9)

    page.get_by_label("Agent evaluated").fill("ana")
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("Spoke clearly (0 to 5)").fill("4")
    page.get_by_label("Comment", exact=True).fill("Good recap of the request here")
    page.get_by_role("button", name="Comment at current time").click()
    sync_api.expect(page.locator("#comments li")).to_contain_text("Good recap")
    page.get_by_role("button", name="Submit the evaluation").click()
    sync_api.expect(page.locator("#qa-result")).to_contain_text("Evaluation saved")

    played = console.api("GET", "/api/audit?action=recording.play", console.supervisor_token)
    assert played.status_code == 403  # supervisors do not read the audit trail
    evaluations = console.api("GET", "/api/qa/evaluations", console.supervisor_token).json()
    assert evaluations[0]["agent"] == "ana"
    assert evaluations[0]["comments"][0]["at_seconds"] > 5


def test_an_agent_is_refused_the_recordings_page(page: Any) -> None:
    sign_in(page, "ana")
    sync_api.expect(page.get_by_role("navigation")).not_to_contain_text("Recordings")
    response = page.goto("/console/recordings")
    assert response.status == 403
    sync_api.expect(page.locator("main")).to_contain_text("not open to your role")


def test_an_ended_session_keeps_the_draft_and_signs_in_again_in_place(
    page: Any, console: Console
) -> None:
    sign_in(page, "ana")
    page.goto("/console/requests/new")
    page.get_by_label("Service", exact=True).select_option("pothole")
    page.get_by_label("What is the problem?").fill("Draft that must survive")
    # The session ends behind the page's back (idle, signed out elsewhere...).
    page.context.clear_cookies()
    page.reload()
    assert "Sign in to open this page" in page.content()
    page.get_by_label("Username", exact=True).fill("ana")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.get_by_label("What is the problem?")).to_have_value(
        "Draft that must survive"
    )
    page.context.clear_cookies()
    page.get_by_role("button", name="File the request").click()
    dialog = page.locator("#reauth")
    sync_api.expect(dialog).to_be_visible()
    dialog.get_by_label("Password", exact=True).fill(PASSWORD)
    dialog.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#filed")).to_contain_text("Filed")


def test_an_agent_finds_an_answer_as_they_type_and_reads_it_in_spanish(page: Any) -> None:
    sign_in(page, "ana")
    page.goto("/console/knowledge")
    page.get_by_label("Search answers").press_sequentially("potohle", delay=30)
    answer = page.get_by_role("button", name="Reporting a pothole")
    answer.wait_for()
    assert "“pothole”" in page.locator("#kb-status").inner_text()  # the misspelling, corrected
    answer.click()
    article = page.locator("#kb-article")
    assert "three business days" in article.inner_text()
    assert "file a request for Pothole" in article.inner_text()  # by name, not code
    page.get_by_label("Read the answer in").select_option("es")
    page.get_by_role("heading", name="Cómo reportar un bache").wait_for()
    assert page.locator("#kb-editor").count() == 0


def test_a_knowledge_editor_changes_an_answer_and_the_history_names_them(page: Any) -> None:
    sign_in(page, "kim", lands_on="/console/knowledge")
    page.get_by_label("Search answers").fill("bulk item")
    page.get_by_role("button", name="Bulk item pickup").click()
    editor = page.locator("#kb-editor")
    assert editor.get_by_label("Title").input_value() == "Bulk item pickup"
    body = editor.get_by_label("Answer")
    body.fill(body.input_value() + " Crews also collect on the last Saturday of the month.")
    editor.get_by_role("button", name="Save").click()
    page.get_by_text("Saved as version 2.").wait_for()
    assert "last Saturday" in page.locator("#kb-article-body").inner_text()
    page.get_by_role("button", name="Show the history").click()
    history = page.locator("#kb-history")
    history.get_by_text("Version 2").wait_for()
    assert "by kim (console)" in history.inner_text()
    assert "en.body" in history.inner_text()


def test_the_console_fits_a_tablet(page: Any) -> None:
    sign_in(page, "ana")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto("/console/requests/new")
    sync_api.expect(page.get_by_role("navigation")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the page"


def test_the_privacy_officer_answers_an_access_request_and_holds_a_persons_data(
    page: Any, console: Console
) -> None:
    filed = console.file_request(
        service_code="graffiti",
        address="77 King St",
        contact={"name": "Tomasa Reyes", "phone": "(302) 555-0144"},
    )
    sign_in(page, "pia")
    page.goto("/console/privacy/requests")
    sync_api.expect(page.locator("#requests-status")).to_have_text("Nothing is due.")
    received = (datetime.now(CITY) - timedelta(days=1)).date().isoformat()
    form = page.locator("#new-privacy-request")
    form.get_by_label("Received on").fill(received)
    form.get_by_label("Received by").select_option("mail")
    form.get_by_label("correct it (correction)").check()
    evidence = form.get_by_label("Identity evidence: what was checked")
    evidence.fill("SSN 219-09-9999 matched")
    form.get_by_label("Phone").fill("302 555 0144")
    form.get_by_role("button", name="Record the request").click()
    sync_api.expect(form.locator('[data-error-for="identity_evidence"]')).to_contain_text(
        "Social Security"
    )
    evidence.fill("Signature compared with the one on the 2025 request form")
    form.get_by_role("button", name="Record the request").click()
    sync_api.expect(page.locator("#record-status")).to_contain_text("answer due by")
    row = page.locator("#requests tbody tr").first
    sync_api.expect(row).to_contain_text("Answer by")
    # Decisions ask for confirmation first.
    row.get_by_role("button", name="Acknowledge").click()
    page.get_by_role("dialog").get_by_role("button", name="Acknowledge").click()
    sync_api.expect(page.locator("#requests tbody tr").first).to_contain_text("Decision by")
    page.locator("#requests tbody tr").first.get_by_role("button", name="Grant").click()
    page.get_by_role("dialog").get_by_role("button", name="Grant access").click()
    page.mouse.move(5, 5)  # the list re-sorts once the pointer has left it
    sync_api.expect(page.locator("#requests-status")).to_have_text("Nothing is due.")
    page.get_by_label("All").check()
    granted = page.locator("#requests tbody tr").first
    sync_api.expect(granted).to_contain_text("Granted")
    screenshot(page, "access-requests")
    href = granted.get_by_role("link", name="grant letter").get_attribute("href")
    letter = page.context.request.get(href)
    assert letter.status == 200
    text = letter.text()
    assert "1 service request<" in text and "right to ask us to correct" in text
    assert "anonymously" in text

    page.goto("/console/privacy/holds")
    hold = page.locator("#new-hold")
    hold.get_by_label("Hold", exact=True).select_option("person")
    hold.get_by_label("Find the person by").select_option("phone")
    hold.get_by_label("Their phone, email, name or address").fill("(302) 555-0144")
    hold.get_by_label("Reason").fill("Claim 2026-77 against the city")
    hold.get_by_role("button", name="Place the hold").click()
    holds = page.locator("#holds tbody tr")
    sync_api.expect(holds.first).to_contain_text("a person, by phone")
    sync_api.expect(holds.first).to_contain_text("standing")
    # Nothing personal in what the page shows or in its address.
    assert "555-0144" not in page.locator("#holds").inner_text()
    assert "0144" not in address_of(page)
    with sa.create_engine(console.database_url).connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM legal_holds")).scalar_one()
    assert stored == 1

    page.goto("/console/privacy/disclosures")
    disclosure = page.locator("#new-disclosure")
    disclosure.get_by_label("Requested by").fill("Police Department, 2nd district")
    disclosure.get_by_label("Legal basis").select_option("law_enforcement")
    disclosure.get_by_label("Case, order or request number").fill("Case 26-1187")
    disclosure.get_by_label("Approved by (username)").fill("pia")
    disclosure.get_by_label("What was disclosed").fill("The request record and its status history")
    disclosure.get_by_label("Records disclosed").fill(filed)
    disclosure.get_by_role("button", name="Record the disclosure").click()
    sync_api.expect(page.locator("#disclosure-status")).to_contain_text("Recorded DC-")
    logged = page.locator("#disclosures tbody tr").first
    sync_api.expect(logged).to_contain_text("law enforcement")
    sync_api.expect(logged).to_contain_text(f"request {filed}")
    sync_api.expect(page.get_by_role("button", name="Older disclosures")).to_be_hidden()

    # The public-records export is a POST (it writes a disclosure); the file still
    # arrives as a download, and the log shows the export.
    exporting = page.locator("#public-records")
    today = datetime.now(CITY).date().isoformat()
    exporting.get_by_label("Filed from").fill(today)
    exporting.get_by_label("Filed to").fill(today)
    with page.expect_download() as download:
        exporting.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename.endswith(".csv")
    sync_api.expect(page.locator("#disclosures tbody tr").first).to_contain_text(
        "public records request"
    )


def test_an_administrator_sets_retention_and_counts_what_is_due(page: Any) -> None:
    sign_in(page, "ada", lands_on="/console/dashboard")
    page.goto("/console/admin/retention")
    rows = page.locator("#schedules tbody tr")
    sync_api.expect(rows.first).to_be_visible()
    recordings = page.get_by_label("How many, for QA recordings (audio and data key)")
    recordings.fill("90")
    page.get_by_label("Unit, for QA recordings (audio and data key)").select_option("days")
    page.get_by_role("button", name="Save QA recordings (audio and data key)").click()
    sync_api.expect(page.locator("#schedules")).to_contain_text("Saved.")
    page.get_by_label("How many, for the app's access log").fill("3")
    page.get_by_role("button", name="Save the app's access log").click()
    sync_api.expect(page.locator("#schedules")).to_contain_text("at most 1 month")
    page.get_by_role("button", name="Count", exact=True).click()
    sync_api.expect(page.locator("#dry-run-result")).to_contain_text("webhook log")
    sync_api.expect(page.get_by_role("navigation")).not_to_contain_text("Legal holds")


def test_an_agent_wraps_up_a_contact_logged_by_hand(page: Any, console: Console) -> None:
    started = datetime.now(CITY) - timedelta(minutes=5)
    answered = {
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=3)).isoformat(),
    }
    logged = console.api(
        "POST", "/api/contacts", console.agent_token, json={"channel": "email", **answered}
    )
    assert logged.status_code == 201, logged.text
    contact_id = logged.json()["id"]
    sign_in(page, "ana")
    page.goto("/console/contacts")
    page.get_by_role("button", name=f"Wrap up {contact_id}").click()
    sync_api.expect(page.locator("#wrap-up-which")).to_have_text(contact_id)
    sync_api.expect(page.get_by_label("Outcome")).to_be_focused()
    page.get_by_label("Outcome").select_option("information_provided")
    page.get_by_label("Topics").fill("trash-collection-schedule, missed-trash-pickup")
    page.get_by_label("Notes").fill("Told them their collection day.")
    page.get_by_role("button", name="Wrap up", exact=True).click()
    sync_api.expect(page.locator("#wrap-up-done")).to_have_text(f"Wrapped up {contact_id}.")
    sync_api.expect(page.get_by_role("button", name=f"Wrap up {contact_id}")).to_have_count(0)
    sync_api.expect(page.get_by_role("button", name="Wrap up", exact=True)).to_be_disabled()
    screenshot(page, "contacts-wrapped-up")

    kept = console.api("GET", f"/api/contacts/{contact_id}", console.agent_token).json()
    assert kept["resolution"] == "information_provided"
    assert kept["topics"] == ["trash-collection-schedule", "missed-trash-pickup"]
    assert kept["wrapped_up_at"] is not None


def test_a_hold_released_with_a_double_click_is_released_once(page: Any, console: Console) -> None:
    """The Release button is disabled while the release is sent: a second click of a
    double click is not sent as a second release (refused, the hold being released)."""
    filed = console.file_request(service_code="pothole", description="Deep pothole by the school")
    placed = console.api(
        "POST",
        "/api/holds",
        console.tokens["pia"],
        json={"target_type": "request", "target_ref": filed, "reason": "Claim 2026-81"},
    )
    assert placed.status_code == 201, placed.text
    hold = placed.json()["id"]
    sign_in(page, "pia")
    page.goto("/console/privacy/holds")
    row = page.locator("#holds tbody tr", has_text=hold)
    row.get_by_label(f"Why {hold} is released").fill("The claim was settled")
    row.get_by_role("button", name=f"Release {hold}").dblclick()
    sync_api.expect(row).to_have_count(0)  # the list shows the holds standing
    page.get_by_label("Show released holds too").check()
    sync_api.expect(row).to_contain_text("The claim was settled")
    releases = console.api("GET", "/api/audit?action=hold.release", console.tokens["pia"]).json()[
        "items"
    ]
    mine = [(e["outcome"], e["object_id"]) for e in releases if e["object_id"] == hold]
    assert mine == [("ok", hold)]
