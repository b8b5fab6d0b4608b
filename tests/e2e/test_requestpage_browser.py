"""The call bar on every page, one page per request (status in place, visits booked,
moved and cancelled within the department's hours), callers' texts as conversations,
and a failed search that leaves no stale results: in Chromium against a real server.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.browser import (
    Console,
    assert_both_widths,
    screenshot,
    sign_in,
)
from tests.fakes.twilio_api import FakeTwilio
from tests.support import CITY, TEST_ACCOUNT_SID, call_sid

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


# The machine under test is shared: give a server answer longer than the default 5 s.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def console_settings() -> dict[str, str]:
    return {"department_visit_hours": json.dumps({"Sanitation": "mon-fri 08:00-17:00"})}


def check_both_widths(page: Any, where: str) -> None:
    """axe at 1280 and 768 px, and no sideways scrolling at 768 px (a screenshot there)."""
    assert_both_widths(page, where, f"768-{where.replace(' ', '-')}")


def next_weekday(weekday: int) -> str:
    """The date of the next given weekday (0 Monday), at least two days ahead."""
    today = datetime.now(CITY).date() + timedelta(days=2)
    return (today + timedelta(days=(weekday - today.weekday()) % 7)).isoformat()


def ring(console: Console, sid: str, number: str) -> dict[str, str]:
    return console.ring(number, sid=sid)


def presence_of(console: Console) -> str:
    """The agent's presence as the server has it, once the bar's change has landed."""
    deadline = time.monotonic() + 10
    while True:
        state = str(console.api("GET", "/api/me/presence", console.agent_token).json()["state"])
        if state == "available" or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def recording_updates(fake: FakeTwilio, sid: str) -> list[str]:
    return [
        form.get("Status", "")
        for call, _, form in fake.state.get("recording_updates", [])
        if call == sid
    ]


def test_the_call_bar_follows_a_call_from_any_page(
    page: Any, console: Console, fake_twilio_server: FakeTwilio
) -> None:
    sign_in(page, "ana")
    page.goto("/console/requests/search")
    bar = page.locator("#call-bar")
    expect(bar.locator("[data-call-state]")).to_contain_text("No call")
    # Presence is set from the bar, and the choice of a chime is kept in this browser.
    bar.get_by_label("My status").select_option("away")
    expect(bar.locator("[data-presence-since]")).to_contain_text("since")
    bar.get_by_label("My status").select_option("available")
    expect(bar.locator("[data-call-state]")).to_have_text("No call · Available")
    assert presence_of(console) == "available"
    bar.get_by_label("Sound and notification when a call rings").check()
    page.reload()
    expect(bar.get_by_label("Sound and notification when a call rings")).to_be_checked()
    check_both_widths(page, "find requests with the call bar")

    sid = call_sid()
    base = ring(console, sid, "+12025550161")
    expect(bar.locator("[data-call-state]")).to_have_text("Ringing")
    expect(bar.locator("[data-call-caller]")).to_have_text("Caller: (202) 555-0161")
    expect(bar.get_by_role("link", name="Open this call in the workspace")).to_have_attribute(
        "href", f"/console/workspace?call={sid}"
    )
    expect(page).to_have_title("Call ringing · Find requests · Switchboard 311")
    expect(bar.get_by_role("button", name="Pause recording")).to_be_hidden()
    assert "555" not in page.title()  # tab titles end up in the browser's history
    screenshot(page, "call-bar-ringing")

    # The agent picks up: their leg is answered.
    leg = {**base, "CallSid": call_sid(), "ParentCallSid": sid, "Direction": "outbound-dial"}
    answered = console.webhook(
        "/twilio/voice/status", {**leg, "CallStatus": "in-progress", "SequenceNumber": "1"}
    )
    assert answered.status_code == 204, answered.text
    expect(bar.locator("[data-call-state]")).to_have_text("On a call")
    expect(page).to_have_title("On a call · Find requests · Switchboard 311")

    # The caller reads out a card number: recording paused, then resumed, from the bar.
    bar.get_by_role("button", name="Pause recording").click()
    expect(bar.locator("[data-recording-said]")).to_contain_text("Recording paused")
    expect(bar.get_by_role("button", name="Resume recording")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert recording_updates(fake_twilio_server, sid) == ["paused"]
    screenshot(page, "call-bar-paused")
    bar.get_by_role("button", name="Resume recording").click()
    expect(bar.locator("[data-recording-said]")).to_contain_text("Recording again")
    assert recording_updates(fake_twilio_server, sid) == ["paused", "in-progress"]
    check_both_widths(page, "the call bar on a call")

    # The call ends: the bar clears, and the agent is in wrap-up.
    console.webhook(
        "/twilio/voice/status",
        {**leg, "CallStatus": "completed", "CallDuration": "30", "SequenceNumber": "2"},
    )
    console.webhook(
        "/twilio/voice/status",
        {**base, "CallStatus": "completed", "CallDuration": "40", "SequenceNumber": "9"},
    )
    expect(bar.locator("[data-call-caller]")).to_be_hidden()
    expect(bar.get_by_role("link", name="Open this call in the workspace")).to_be_hidden()
    expect(bar.get_by_role("button", name="Pause recording")).to_be_hidden()
    expect(bar.locator("[data-call-state]")).not_to_contain_text("On a call")
    expect(page).to_have_title("Find requests · Switchboard 311")

    # A withheld number is said plainly.
    hidden = ring(console, call_sid(), "anonymous")
    expect(bar.locator("[data-call-caller]")).to_have_text("Caller: Number withheld")
    console.webhook(
        "/twilio/voice/status",
        {**hidden, "CallStatus": "completed", "CallDuration": "5", "SequenceNumber": "9"},
    )
    expect(bar.locator("[data-call-caller]")).to_be_hidden()


def test_a_request_page_moves_the_request_on_and_books_its_visits(
    page: Any, console: Console
) -> None:
    request_id = console.file_request(
        service_code="bulk-pickup",
        description="A sofa and two chairs",
        address="12 Elm St",
        contact={"name": "Rosa Diaz", "phone": "(202) 555-0190"},
    )
    sign_in(page, "ana")
    page.goto("/console/requests/search")
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Search for").fill("202 555 0190")
    page.get_by_role("button", name="Search").click()
    clicks = 0
    page.locator("#results").get_by_role("link", name=request_id).click()
    clicks += 1
    page.wait_for_url(f"**/console/requests/{request_id}")
    facts = page.locator("#facts")
    expect(facts).to_contain_text("Bulk item pickup")  # the service by name
    expect(facts).to_contain_text("Rosa Diaz · (202) 555-0190")
    page.evaluate("() => { window.stillThisPage = true; }")

    # The status moves on in place, with a note.
    page.get_by_label("Move it to").select_option("in_progress")
    page.get_by_label("Note (optional)").fill("Crew booked")
    page.get_by_role("button", name="Change the status").click()
    expect(page.locator("#status-said")).to_have_text("Now in progress.")
    expect(page.locator("#history")).to_contain_text("Crew booked")
    expect(page.locator("#history li").last).to_contain_text("In progress")

    # The visit form is prefilled from the request (its place and the sealed contact).
    form = page.locator("#visit-form")
    expect(form.get_by_label("Where", exact=True)).to_have_value("12 Elm St")
    expect(form.get_by_label("Caller's mobile number")).to_have_value("(202) 555-0190")
    expect(page.locator("#visit-hours")).to_have_text(
        "Sanitation makes visits Monday to Friday 8:00 AM to 5:00 PM."
    )
    form.get_by_label("Date", exact=True).fill(next_weekday(5))  # a Saturday
    form.get_by_label("From", exact=True).fill("09:00")
    form.get_by_label("To", exact=True).fill("10:00")
    form.get_by_label("The caller agrees to get texts").check()
    form.get_by_role("button", name="Book and send the confirmation").click()
    expect(form.locator('[data-error-for="starts_at"]')).to_have_text(
        "Sanitation makes visits Monday to Friday 8:00 AM to 5:00 PM: "
        "choose a time within those hours."
    )
    # A long place name: the text would go as two parts, and the page says so.
    form.get_by_label("Where", exact=True).fill(
        "Behind the blue garage at the back of 12 Elm Street, by the alley gate"
    )
    form.get_by_label("Date", exact=True).fill(next_weekday(0))  # a Monday
    form.get_by_label("To", exact=True).fill("11:00")
    form.get_by_label("To", exact=True).dispatch_event("change")
    expect(page.locator("#visit-parts")).to_contain_text("will go as 2 parts")
    form.get_by_label("Where", exact=True).fill("12 Elm St")
    form.get_by_label("Where", exact=True).dispatch_event("change")
    # The preview's answer moves the button: wait for it before clicking.
    expect(page.locator("#visit-preview")).to_contain_text("at 12 Elm St. Reply HELP")
    expect(page.locator("#visit-parts")).to_be_hidden()
    form.get_by_role("button", name="Book and send the confirmation").click()
    status = page.locator("#appointments-status")
    expect(status).to_contain_text("Booked AP-")
    visit = page.locator("#appointments li.appointment").first
    expect(visit).to_contain_text("booked")
    expect(visit).to_contain_text("Confirmation to (202) 555-0190")
    appointment_id = visit.locator("strong").first.inner_text()
    check_both_widths(page, "the request page")
    screenshot(page, "request-page")

    # Moved to the afternoon, then cancelled, on the same page.
    page.get_by_role("button", name=f"Move visit {appointment_id}").click()
    expect(page.locator("#visit-title")).to_have_text(f"Move visit {appointment_id}")
    form.get_by_label("From", exact=True).fill("18:00")
    form.get_by_label("To", exact=True).fill("19:00")
    form.get_by_label("To", exact=True).dispatch_event("change")
    expect(page.locator("#visit-preview")).to_contain_text("6:00 pm")
    form.get_by_role("button", name="Move the visit and tell the caller").click()
    expect(form.locator('[data-error-for="starts_at"]')).to_contain_text("Monday to Friday")
    form.get_by_label("From", exact=True).fill("14:00")
    form.get_by_label("To", exact=True).fill("15:00")
    form.get_by_label("To", exact=True).dispatch_event("change")
    expect(page.locator("#visit-preview")).to_contain_text("2:00 pm")
    form.get_by_role("button", name="Move the visit and tell the caller").click()
    expect(status).to_contain_text(f"Visit {appointment_id} moved")
    expect(visit).to_contain_text("New time")
    page.get_by_role("button", name=f"Cancel visit {appointment_id}").click()
    page.get_by_role(
        "button", name=f"Yes, cancel visit {appointment_id} and tell the caller"
    ).click()
    expect(status).to_contain_text(f"Visit {appointment_id} cancelled")
    expect(page.locator("#appointments li.appointment").first).to_contain_text("cancelled")
    assert page.evaluate("() => window.stillThisPage === true")  # no page load since
    assert clicks == 1

    stored = console.api("GET", f"/api/requests/{request_id}", console.agent_token).json()
    assert stored["status"] == "in_progress"
    page.goto("/console/requests/SR-ZZZZZ-ZZZZZ")
    expect(page.locator("#request-status")).to_have_text(
        "There is no request SR-ZZZZZ-ZZZZZ. Check the number and try again."
    )


def test_a_callers_texts_read_as_a_conversation_and_a_failed_search_clears(
    page: Any, console: Console
) -> None:
    request_id = console.file_request(
        service_code="bulk-pickup",
        address="40 Pine St",
        contact={"name": "Lee Park", "phone": "(202) 555-0147"},
    )
    starts = f"{next_weekday(1)}T09:00:00"
    booked = console.api(
        "POST",
        "/api/appointments",
        console.agent_token,
        json={
            "request_id": request_id,
            "starts_at": starts,
            "ends_at": f"{next_weekday(1)}T10:00:00",
            "location": "40 Pine St",
            "phone": "(202) 555-0147",
            "consent": True,
        },
    )
    assert booked.status_code == 201, booked.text
    time.sleep(0.01)
    texted = console.webhook(
        "/twilio/sms",
        {
            "AccountSid": TEST_ACCOUNT_SID,
            "MessageSid": "SM" + call_sid()[2:],
            "From": "+12025550147",
            "To": "+12025550100",
            "Body": "Can you come in the afternoon instead?",
        },
    )
    assert texted.status_code == 200, texted.text

    sign_in(page, "ana")
    page.goto("/console/messages")
    page.get_by_role("button", name="Open the conversation with (202) 555-0147").click()
    thread = page.locator("#thread")
    expect(thread.locator("li").first).to_contain_text("Confirmation from the city")
    expect(thread).to_contain_text("Can you come in the afternoon instead?")
    page.get_by_label("Your reply").fill("Yes: see www.example.com")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.locator('[data-error-for="body"]')).to_contain_text("cannot carry a link")
    page.get_by_label("Your reply").fill("Yes, we will move it to the afternoon.")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.locator("#conversation-status")).to_contain_text("Reply sent")
    expect(thread).to_contain_text("Reply from the city")
    check_both_widths(page, "the conversations")
    screenshot(page, "conversation")

    appointment_id = booked.json()["id"]
    page.get_by_role("link", name=f"Move visit {appointment_id}").click()
    page.wait_for_url(f"**/console/requests/{request_id}")
    expect(page.locator("#visit-title")).to_have_text(f"Move visit {appointment_id}")
    expect(page.locator("#visit-form").get_by_label("From", exact=True)).to_have_value("09:00")

    # A failed search leaves nothing of the one before.
    page.goto("/console/requests/search")
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Search for").fill("(202) 555-0147")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results")).to_contain_text(request_id)
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Search for").fill("not an address")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-status")).to_have_text(
        "The search did not work: no results are shown."
    )
    expect(page.locator('[data-error-for="term"]')).to_have_text(
        "This email is not an email address."
    )
    expect(page.locator("#results")).to_be_hidden()
    expect(page.locator("#results tbody tr")).to_have_count(0)
    check_both_widths(page, "find requests after a failed search")


def test_a_request_page_says_when_each_call_began_how_long_it_was_and_who_answered(
    page: Any, console: Console
) -> None:
    admin = console.tokens["ada"]
    staff = console.api("GET", "/api/staff", admin).json()["items"]
    sam = next(user["id"] for user in staff if user["username"] == "sam")
    line = console.api("PATCH", f"/api/staff/{sam}", admin, json={"destination": "client:sam"})
    assert line.status_code == 200, line.text
    sid = call_sid()
    base = ring(console, sid, "+12025550164")
    leg = {**base, "CallSid": call_sid(), "ParentCallSid": sid, "Direction": "outbound-dial"}
    leg["To"] = "client:sam"  # sam picks it up on his own line
    for status, seq in (("in-progress", "1"), ("completed", "2")):
        console.webhook(
            "/twilio/voice/status", {**leg, "CallStatus": status, "SequenceNumber": seq}
        )
    console.webhook(
        "/twilio/voice/status",
        {**base, "CallStatus": "completed", "CallDuration": "75", "SequenceNumber": "9"},
    )
    request_id = console.file_request(
        service_code="pothole", description="Pothole by the bus stop", call_sid=sid
    )
    started = console.api("GET", f"/api/calls/{sid}", console.agent_token).json()["started_at"]

    sign_in(page, "ana")
    page.goto(f"/console/requests/{request_id}")
    call = page.locator("#calls li").first
    expect(call).to_contain_text("lasted 1:15 · answered by sam")
    shown = page.evaluate("(iso) => SB.when(iso)", started)
    expect(call).to_contain_text(f"Call of {shown}")
    expect(call.get_by_role("link", name="open in the workspace")).to_have_attribute(
        "href", f"/console/workspace?call={sid}"
    )
    check_both_widths(page, "a request page with its call")
