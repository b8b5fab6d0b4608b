"""The call taker's workspace in a real browser, on SQLite and PostgreSQL: drafts kept
per call, one page per call (the caller's history, the knowledge base, the request form
and the wrap-up side by side), and the core loop counted in clicks and page loads.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.browser import (
    Console,
    assert_accessible,
    assert_both_widths,
    screenshot,
    sign_in,
)
from tests.support import TEST_ACCOUNT_SID, call_sid

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
REQUEST_ID = re.compile(r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")


def ring(console: Console, caller: str) -> str:
    """A call from ``caller`` that picks extension 3 (ana's) in the menu: it rings."""
    return console.ring(caller)["CallSid"]


def end(console: Console, sid: str) -> None:
    """The caller hangs up while it rings: the dial is over (so is the offer to the
    agent), then the call."""
    base = {"AccountSid": TEST_ACCOUNT_SID, "CallSid": sid, "To": "+12025550100"}
    console.webhook(
        "/twilio/voice/dial-complete?lang=en&ext=3",
        {**base, "CallStatus": "completed", "DialCallStatus": "canceled"},
    )
    ended = console.webhook(
        "/twilio/voice/status",
        {
            **base,
            "Direction": "inbound",
            "CallStatus": "completed",
            "CallDuration": "30",
            "SequenceNumber": "9",
        },
    )
    assert ended.status_code == 204, ended.text


def test_a_draft_belongs_to_its_call_and_says_so_when_restored(page: Any, console: Console) -> None:
    """The bug: caller A's half-typed request was restored, call and all, into caller
    B's form, with no notice."""
    sign_in(page, "ana")
    first = ring(console, "+12025550111")
    page.goto(f"/console/requests/new#call={first}")
    form = page.locator("#request-form")
    expect(form.get_by_label("Call (optional)")).to_have_value(first)
    form.get_by_label("Name (optional)", exact=True).fill("Ada Alpha")
    form.get_by_label("Phone (optional)", exact=True).fill("(202) 555-0111")
    form.get_by_label("What is the problem?").fill("Streetlight out on A Street")

    second = ring(console, "+12025550122")
    page.goto("/console/live")
    expect(page.locator(f'.pop[data-call-sid="{second}"]')).to_be_visible()
    page.goto(f"/console/requests/new#call={second}")
    expect(form.get_by_label("Call (optional)")).to_have_value(second)
    expect(form.get_by_label("Name (optional)", exact=True)).to_have_value("")
    expect(form.get_by_label("Phone (optional)", exact=True)).to_have_value("")
    expect(form.get_by_label("What is the problem?")).to_have_value("")
    expect(page.locator(".draft-notice")).to_have_count(0)

    # Back to the first call (the address alone changes): its draft, said to be one.
    page.goto(f"/console/requests/new#call={first}")
    expect(form.get_by_label("Call (optional)")).to_have_value(first)
    expect(form.get_by_label("Name (optional)", exact=True)).to_have_value("Ada Alpha")
    notice = page.locator(".draft-notice")
    expect(notice).to_contain_text("Restored what you typed earlier for this call")
    assert_both_widths(page, "the request form with a restored draft")
    notice.get_by_role("button", name="Discard the draft").click()
    expect(form.get_by_label("Name (optional)", exact=True)).to_have_value("")
    expect(form.get_by_label("Call (optional)")).to_have_value(first)
    expect(notice).to_have_count(0)
    page.reload()
    expect(form.get_by_label("What is the problem?")).to_have_value("")

    # Caller B's request carries B's details and B's call, nothing of A.
    page.goto(f"/console/requests/new#call={second}")
    form.get_by_label("Service", exact=True).select_option("pothole")
    form.get_by_label("Name (optional)", exact=True).fill("Bo Beta")
    form.get_by_role("button", name="File the request").click()
    filed = page.locator("#filed strong")
    expect(filed).to_have_text(REQUEST_ID)
    request = console.api("GET", f"/api/requests/{filed.inner_text()}", console.agent_token).json()
    assert request["calls"] == [second]
    assert request["contact"]["name"] == "Bo Beta"
    assert request["contact"]["phone"] is None

    # The screen pop leads into the call's workspace in one click.
    page.goto("/console/live")
    pop = page.locator(f'.pop[data-call-sid="{second}"]')
    expect(pop).to_be_visible()
    assert_both_widths(page, "the screen pop")
    pop.get_by_role("link", name="Open this call's workspace").click()
    page.wait_for_url(f"**/console/workspace?call={second}")
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0122")
    expect(page.get_by_label("Phone (optional)", exact=True)).to_have_value("(202) 555-0122")
    # The first call still rings: offered, not forced on the agent; one click opens it.
    offer = page.locator("#ws-offer")
    expect(offer).to_contain_text("Another call is ringing: (202) 555-0111.")
    offer.get_by_role("button", name="Open the ringing call").click()
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0111")
    assert page.url.endswith(f"/console/workspace?call={first}")


ANA_LINE = "client:ana"


def take_calls(console: Console) -> None:
    """ana answers on a line of her own for department 3 and is available: the menu
    offers her its calls, and her answered leg opens her contact."""
    admin = console.tokens["ada"]
    staff = console.api("GET", "/api/staff", admin).json()["items"]
    ana = next(user["id"] for user in staff if user["username"] == "ana")
    changed = console.api(
        "PATCH", f"/api/staff/{ana}", admin, json={"destination": ANA_LINE, "department": "3"}
    )
    assert changed.status_code == 200, changed.text
    available = console.api(
        "PUT", "/api/me/presence", console.agent_token, json={"state": "available"}
    )
    assert available.status_code == 200, available.text


def leg(console: Console, parent: str, leg_sid: str, caller: str, status: str, seq: int) -> None:
    """Progress of the leg the menu dialled to ana's line."""
    params = {
        "AccountSid": TEST_ACCOUNT_SID,
        "CallSid": leg_sid,
        "ParentCallSid": parent,
        "CallStatus": status,
        "Direction": "outbound-dial",
        "From": caller,
        "To": ANA_LINE,
        "SequenceNumber": str(seq),
    }
    if status == "completed":
        params["CallDuration"] = "60"
    answered = console.webhook("/twilio/voice/status", params)
    assert answered.status_code in (200, 204), answered.text


def answer(console: Console, parent: str, caller: str) -> str:
    sid = call_sid()
    leg(console, parent, sid, caller, "in-progress", 1)
    return sid


def hang_up(console: Console, parent: str, leg_sid: str, caller: str) -> None:
    leg(console, parent, leg_sid, caller, "completed", 2)
    base = {"AccountSid": TEST_ACCOUNT_SID, "CallSid": parent, "From": caller}
    console.webhook(
        "/twilio/voice/dial-complete?lang=en&ext=3",
        {**base, "To": "+12025550100", "CallStatus": "in-progress", "DialCallStatus": "completed"},
    )
    console.webhook(
        "/twilio/voice/status",
        {
            **base,
            "To": "+12025550100",
            "Direction": "inbound",
            "CallStatus": "completed",
            "CallDuration": "75",
            "SequenceNumber": "9",
        },
    )


class Clicks:
    """The clicks the call taker makes, counted per call."""

    def __init__(self) -> None:
        self.per_call: list[int] = []

    def next_call(self) -> None:
        self.per_call.append(0)

    def click(self, locator: Any) -> None:
        locator.click()
        self.per_call[-1] += 1


def test_the_core_loop_takes_two_clicks_a_call_and_no_page_load(
    page: Any, console: Console
) -> None:
    returning = "+12025550133"
    earlier = console.file_request(
        service_code="streetlight",
        description="Light out by the school",
        address="40 Oak St",
        contact={"name": "Cy Returning", "phone": "(202) 555-0133", "email": "cy@example.org"},
    )
    take_calls(console)
    sign_in(page, "ana")  # lands on the workspace: the one page load
    loads: list[str] = []
    navigations: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == page.main_frame else None,
    )
    page.evaluate("() => { window.sameDocument = true; }")
    expect(page.locator("#ws-status")).to_have_text("Waiting for calls on extension 3.")
    assert_accessible(page, "the workspace waiting for a call")
    clicks = Clicks()
    request_form = page.locator("#ws-request-form")
    caller_panel = page.locator("#ws-caller")

    # Call 1, a new caller: the call opens by itself, their number is filled in; a new
    # request is filed and the contact wrapped up.
    clicks.next_call()
    first_caller = "+12025550155"
    first = ring(console, first_caller)
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0155")
    expect(caller_panel).to_contain_text("No earlier requests from this number.")
    assert f"call={first}" in page.url
    first_leg = answer(console, first, first_caller)
    phone = request_form.get_by_label("Phone (optional)", exact=True)
    expect(phone).to_have_value("(202) 555-0155")
    picker = page.get_by_role("combobox", name="Service")
    picker.press_sequentially("hole in the road", delay=20)
    expect(page.get_by_role("option", name=re.compile("^Pothole"))).to_be_visible()
    picker.press("ArrowDown")
    picker.press("Enter")
    expect(picker).to_have_value("Pothole (Public Works)")
    request_form.get_by_label("What is the problem?").fill("Deep pothole in the bus lane")
    request_form.get_by_label("Where is it?").fill("100 Main St")
    clicks.click(request_form.get_by_role("button", name="File the request"))
    filed = page.locator("#ws-filed strong")
    expect(filed).to_have_text(REQUEST_ID)
    new_request = filed.inner_text()
    expect(page.locator("#ws-wrap-requests")).to_have_text(new_request)
    hang_up(console, first, first_leg, first_caller)
    expect(page.locator("#ws-status")).to_have_text("The call has ended: wrap it up.")
    expect(page.get_by_label("Outcome")).to_have_value("request_filed")
    clicks.click(page.get_by_role("button", name="Wrap up"))
    expect(page.locator("#ws-wrapped")).to_contain_text("Wrapped up CT-")
    filed_request = console.api("GET", f"/api/requests/{new_request}", console.agent_token).json()
    assert filed_request["calls"] == [first]
    assert filed_request["contact"]["phone"] == "+12025550155"

    # Call 2, a returning caller with a question: their history is on screen; the answer
    # is read in place and becomes the wrap-up's topic.
    clicks.next_call()
    second = ring(console, returning)
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0133")
    expect(caller_panel.get_by_role("link", name=earlier)).to_have_attribute(
        "href", f"/console/requests/{earlier}"
    )
    expect(caller_panel).to_contain_text("Street light out")  # by name, never by code
    assert "streetlight" not in caller_panel.inner_text()
    second_leg = answer(console, second, returning)
    page.get_by_label("Search answers").press_sequentially("bulk item", delay=20)
    clicks.click(page.get_by_role("button", name="Bulk item pickup"))
    expect(page.locator("#ws-kb-article")).to_contain_text("appointment")
    expect(page.locator("#ws-topics")).to_contain_text("Bulk item pickup")
    hang_up(console, second, second_leg, returning)
    expect(page.locator("#ws-status")).to_have_text("The call has ended: wrap it up.")
    page.get_by_label("Outcome").select_option("information_provided")  # a keyboard-able select
    clicks.click(page.get_by_role("button", name="Wrap up"))
    expect(page.locator("#ws-wrapped")).to_contain_text("Wrapped up CT-")

    # Still on that caller: their last request's details in one click (read from the
    # sealed record, audited), not counted in the loop.
    page.get_by_role("button", name=f"Use the details from {earlier}").click()
    expect(request_form.get_by_label("Name (optional)", exact=True)).to_have_value("Cy Returning")
    expect(request_form.get_by_label("Email (optional)", exact=True)).to_have_value(
        "cy@example.org"
    )
    reused = console.api(
        "GET", "/api/audit?action=request.contact_reuse", console.tokens["pia"]
    ).json()
    assert [entry["object_id"] for entry in reused["items"]] == [earlier]
    # The answer read names its service: one click puts it on the request, by name.
    page.get_by_role("button", name="Use this service").click()
    expect(picker).to_have_value("Bulk item pickup (Sanitation)")

    # Call 3, another caller about the first caller's pothole: the duplicate is shown
    # before filing, and the caller is added to it instead.
    clicks.next_call()
    third_caller = "+12025550166"
    third = ring(console, third_caller)
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0166")
    expect(request_form.get_by_label("Name (optional)", exact=True)).to_have_value("")
    third_leg = answer(console, third, third_caller)
    picker.press_sequentially("pothole", delay=20)
    expect(page.get_by_role("option", name=re.compile("^Pothole"))).to_be_visible()
    picker.press("Enter")
    request_form.get_by_label("Where is it?").fill("100 Main Street")
    duplicates = page.locator("#ws-duplicates")
    expect(duplicates).to_contain_text(new_request)
    assert_both_widths(
        page, "the workspace with a caller, an answer and a duplicate", "workspace-tablet"
    )
    adding = duplicates.get_by_role("group", name=f"Add this caller to {new_request}")
    clicks.click(adding.get_by_role("button", name="Updates by text"))  # the caller's answer
    expect(page.locator("#ws-filed")).to_contain_text(f"Added the caller to {new_request}")
    expect(page.locator("#ws-filed")).to_contain_text("Texts about request")
    hang_up(console, third, third_leg, third_caller)
    expect(page.locator("#ws-status")).to_have_text("The call has ended: wrap it up.")
    clicks.click(page.get_by_role("button", name="Wrap up"))
    expect(page.locator("#ws-wrapped")).to_contain_text("Wrapped up CT-")
    screenshot(page, "workspace-desktop")

    added = console.api("GET", f"/api/requests/{new_request}", console.agent_token).json()
    assert [consent["consent_call_sid"] for consent in added["updates"]] == [third]
    assert clicks.per_call == [2, 2, 2], clicks.per_call
    assert loads == [], loads  # no page load after the first
    assert page.evaluate("() => window.sameDocument") is True
    same_document = [url for url in navigations if "/console/workspace" in url]
    assert len(same_document) == len(navigations) == 3, navigations  # one per call, in place


def test_adding_a_caller_to_a_request_asks_how_they_want_its_updates(
    page: Any, console: Console
) -> None:
    """Adding a caller to a possible duplicate used the phone and email typed in the form
    as consent to updates by both; now the caller's answer is asked for, and no answer
    records no consent."""
    existing = console.file_request(
        service_code="streetlight", description="Dark all night", address="7 Birch Lane"
    )
    sid = ring(console, "+12025550177")
    sign_in(page, "ana")
    page.goto(f"/console/workspace?call={sid}")
    form = page.locator("#ws-request-form")
    expect(form.get_by_label("Phone (optional)", exact=True)).to_have_value("(202) 555-0177")
    picker = page.get_by_role("combobox", name="Service")

    def duplicate_of_existing() -> Any:
        picker.press_sequentially("street light", delay=20)
        expect(page.get_by_role("option", name=re.compile("^Street light out"))).to_be_visible()
        picker.press("Enter")
        form.get_by_label("Where is it?").fill("7 Birch Lane")
        return page.locator("#ws-duplicates").get_by_role(
            "group", name=f"Add this caller to {existing}"
        )

    def updates() -> list[str]:
        found = console.api("GET", f"/api/requests/{existing}", console.agent_token).json()
        return [consent["channel"] for consent in found["updates"]]

    form.get_by_label("Email (optional)", exact=True).fill("dee@example.org")
    duplicate_of_existing().get_by_role("button", name="No updates").click()
    filed = page.locator("#ws-filed")
    expect(filed).to_contain_text(f"Noted {existing} for this contact")
    expect(page.locator("#ws-wrap-requests")).to_have_text(existing)
    assert updates() == []

    # The caller changes their mind: by email only, though a phone is in the form too.
    form.get_by_label("Phone (optional)", exact=True).fill("(202) 555-0177")
    form.get_by_label("Email (optional)", exact=True).fill("dee@example.org")
    choice = duplicate_of_existing()
    assert_accessible(page, "the workspace asking how the caller wants updates")
    choice.get_by_role("button", name="Updates by email").click()
    expect(filed).to_contain_text(f"Added the caller to {existing}")
    expect(filed).to_contain_text("Read to the caller:")
    assert updates() == ["email"]
    screenshot(page, "workspace-add-caller")
    end(console, sid)


def test_topics_restored_from_a_draft_are_shown_by_their_titles(
    page: Any, console: Console
) -> None:
    sid = ring(console, "+12025550178")
    sign_in(page, "ana")
    page.goto(f"/console/workspace?call={sid}")
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0178")
    page.get_by_label("Search answers").press_sequentially("bulk item", delay=20)
    page.get_by_role("button", name="Bulk item pickup").click()
    topics = page.locator("#ws-topics")
    expect(topics).to_have_text(re.compile("^Bulk item pickup"))
    page.reload()  # the wrap-up's draft comes back with the topic's code only
    expect(page.locator("#ws-wrap-form .draft-notice")).to_be_visible()
    expect(topics).to_have_text(re.compile("^Bulk item pickup"))
    expect(topics.get_by_role("button", name="Remove the topic Bulk item pickup")).to_be_visible()
    end(console, sid)


def test_someone_at_the_counter_is_served_and_wrapped_up_without_a_call(
    page: Any, console: Console
) -> None:
    available = console.api(
        "PUT", "/api/me/presence", console.agent_token, json={"state": "available"}
    )
    assert available.status_code == 200, available.text  # so that calls are offered to her
    sign_in(page, "ana")
    start = page.locator("#ws-start")
    expect(start).to_be_visible()
    screenshot(page, "workspace-idle")
    start.get_by_label("How they reached us").select_option("walk_in")
    start.get_by_role("button", name="Start the contact").click()
    expect(page.locator("#ws-number")).to_contain_text("In person (walk-in) · CT-")
    expect(page.locator("#ws-status")).to_have_text(
        "A contact is open here: wrap it up when you are done."
    )
    expect(start).to_be_hidden()
    status = page.get_by_label("My status")
    expect(status).to_have_value("busy")  # no call is offered while she serves someone
    contact = page.url.split("?contact=")[1]
    form = page.locator("#ws-request-form")
    picker = page.get_by_role("combobox", name="Service")
    picker.press_sequentially("pothole", delay=20)
    expect(page.get_by_role("option", name=re.compile("^Pothole"))).to_be_visible()
    picker.press("Enter")
    form.get_by_label("What is the problem?").fill("Pothole outside the library")
    form.get_by_label("Where is it?").fill("9 Walnut Court")
    form.get_by_label("Name (optional)", exact=True).fill("Wes Walker")
    form.get_by_role("button", name="File the request").click()
    filed = page.locator("#ws-filed strong")
    expect(filed).to_have_text(REQUEST_ID)
    request_id = filed.inner_text()
    expect(page.get_by_label("Outcome")).to_have_value("request_filed")

    page.reload()  # the contact is in the address, its wrap-up kept as a draft of its own
    expect(page.locator("#ws-number")).to_contain_text(contact)
    expect(page.locator("#ws-wrap-requests")).to_have_text(request_id)
    expect(page.locator("#ws-wrap-form .draft-notice")).to_contain_text("for this contact")
    assert_accessible(page, "the workspace with a walk-in contact")
    screenshot(page, "workspace-walk-in")
    # She makes herself available again while the visitor reads something over; a call
    # rings meanwhile: offered, not forced on the agent serving someone.
    status.select_option("available")
    for _ in range(50):
        mine = console.api("GET", "/api/me/presence", console.agent_token).json()
        if mine["state"] == "available":
            break
        page.wait_for_timeout(100)
    assert mine["state"] == "available"
    waiting = ring(console, "+12025550179")
    expect(page.locator("#ws-offer")).to_contain_text("Another call is ringing: (202) 555-0179.")
    expect(page.locator("#ws-number")).to_contain_text(contact)
    page.get_by_role("button", name="Wrap up").click()
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0179")  # then it opens
    expect(status).to_have_value("available")
    end(console, waiting)

    record = console.api("GET", f"/api/contacts/{contact}", console.agent_token).json()
    assert record["channel"] == "walk_in" and record["agent"] == "ana"
    assert record["resolution"] == "request_filed"
    assert record["request_ids"] == [request_id]
    assert record["ended_at"] is not None
    request = console.api("GET", f"/api/requests/{request_id}", console.agent_token).json()
    assert request["calls"] == []
    assert request["contact"]["name"] == "Wes Walker"


def test_the_option_a_quick_typist_highlights_stays_chosen_when_a_search_answers_late(
    page: Any,
) -> None:
    """The service list is drawn again as each search answers; the option highlighted with
    the arrow key stays highlighted, and a search still waiting does not close the list."""
    sign_in(page, "ana")
    late = {"on": False}

    def answer_late(route: Any) -> None:
        if late["on"]:
            page.wait_for_timeout(1500)  # the knowledge base answers slowly
        route.continue_()

    page.route("**/api/kb/articles?*", answer_late)
    start = page.locator("#ws-start")
    start.get_by_label("How they reached us").select_option("walk_in")
    start.get_by_role("button", name="Start the contact").click()
    expect(page.locator("#ws-number")).to_contain_text("In person (walk-in) · CT-")
    picker = page.get_by_role("combobox", name="Service")
    # No service is named this way: only an answer in the knowledge base leads to it.
    picker.press_sequentially("hole in the road", delay=20)
    pothole = page.get_by_role("option", name=re.compile("^Pothole"))
    expect(pothole).to_be_visible()
    picker.press("ArrowDown")
    expect(pothole).to_have_attribute("aria-selected", "true")
    late["on"] = True
    picker.press("End")
    picker.press_sequentially(" ", delay=20)  # one more key: a new search starts
    page.wait_for_timeout(400)  # the names are matched, the answers not yet in
    expect(pothole).to_be_visible()
    expect(pothole).to_have_attribute("aria-selected", "true")
    picker.press("Enter")
    expect(picker).to_have_value("Pothole (Public Works)")


def test_a_call_left_to_wrap_up_opens_in_its_workspace_from_the_wrap_up_list(
    page: Any, console: Console
) -> None:
    """The wrap-up list named a call by its SID, which says nothing to a person, and took
    topics as codes; each contact now opens in the workspace: a call's caller and their
    history, topics by their titles, the same wrap-up."""
    take_calls(console)
    caller = "+12025550177"
    parent = ring(console, caller)
    answered = answer(console, parent, caller)
    hang_up(console, parent, answered, caller)
    sign_in(page, "ana")
    page.goto("/console/contacts")
    row = page.locator("#open-contacts tbody tr", has_text="phone")
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text(answered)
    assert_both_widths(page, "the wrap-up list with a call", "wrap-up-list-768")
    screenshot(page, "wrap-up-list-1280")
    row.get_by_role("link", name=re.compile("^Open contact .* in the workspace$")).click()
    page.wait_for_url(f"**/console/workspace?call={answered}")
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0177")
    expect(page.locator("#ws-call-meta")).to_contain_text("extension 3")
    screenshot(page, "workspace-from-wrap-up-list")

    # A contact logged by hand opens there too, by its number.
    logged = console.api(
        "POST",
        "/api/contacts",
        console.agent_token,
        json={"channel": "email", "started_at": datetime.now(UTC).isoformat()},
    )
    assert logged.status_code == 201, logged.text
    contact_id = logged.json()["id"]
    page.goto("/console/contacts")
    link = page.get_by_role("link", name=f"Open contact {contact_id} in the workspace")
    expect(link).to_have_attribute("href", f"/console/workspace?contact={contact_id}")
    page.goto(f"/console/workspace?contact={contact_id}")
    expect(page.locator("#ws-number")).to_contain_text(contact_id)
