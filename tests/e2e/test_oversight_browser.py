"""The supervisors' and privacy officers' consoles in a real browser, on SQLite and
PostgreSQL: the live wallboard, the call log one row per call, the QA form builder, the
due list with its confirmations, and the audit viewer. Each page is checked with axe at
1280 and 768 px, and for sideways scrolling at 768 px."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.audio import call_recording
from tests.e2e.browser import (
    GREETING,
    PASSWORD,
    SCREENSHOTS,
    Console,
    address_of,
    assert_accessible,
    assert_both_widths,
    screenshot,
    sign_in,
    signed_in,
)
from tests.fakes.twilio_api import FakeTwilio
from tests.support import (
    CITY,
    TEST_ACCOUNT_SID,
    call_sid,
    recording_params,
    switchboard_batch,
)

ANA_DESK = "+12025550199"
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


NOTHING = "\u2013"  # the en dash a figure shows when there is none yet


def note(where: str, found: list[str]) -> None:
    """Keep the minor and moderate axe findings of a page for the report."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with (SCREENSHOTS / "oversight-axe.txt").open("a", encoding="utf-8") as out:
        out.write(f"{where}: {', '.join(found) or 'nothing'}\n")


def check_page(page: Any, name: str) -> None:
    """axe at 1280 px, then axe and no sideways scrolling at 768 px, then back."""
    for width, found in assert_both_widths(page, name, f"oversight-{name}-768").items():
        note(f"{name} @{width}", found)


class Call:
    """One caller's call through the webhooks, signed as Twilio signs them."""

    def __init__(self, console: Console, caller: str) -> None:
        self.console, self.caller, self.sid = console, caller, call_sid()
        self.base = {
            "AccountSid": TEST_ACCOUNT_SID,
            "CallSid": self.sid,
            "From": caller,
            "To": "+12025550100",
            "Direction": "inbound",
        }

    def ring(self, extension: str = "3") -> Call:
        self.console.ring(self.caller, sid=self.sid, digits=extension)
        return self

    def answer(self, desk: str = ANA_DESK) -> str:
        leg = call_sid()
        answered = self.console.webhook(
            "/twilio/voice/status",
            {
                "AccountSid": TEST_ACCOUNT_SID,
                "CallSid": leg,
                "ParentCallSid": self.sid,
                "From": self.caller,
                "To": desk,
                "Direction": "outbound-dial",
                "CallStatus": "in-progress",
                "SequenceNumber": "1",
            },
        )
        assert answered.status_code == 204, answered.text
        return leg

    def end(self, seconds: int = 40) -> None:
        ended = self.console.webhook(
            "/twilio/voice/status",
            {
                **self.base,
                "CallStatus": "completed",
                "CallDuration": str(seconds),
                "SequenceNumber": "9",
            },
        )
        assert ended.status_code == 204, ended.text


@pytest.fixture(scope="module", autouse=True)
def ana_takes_calls(console: Console) -> None:
    """The agent answers department 3's calls at a desk of her own."""
    console.sql(
        "UPDATE staff_users SET destination = :desk, department = '3', presence = 'available'"
        " WHERE username = 'ana'",
        desk=ANA_DESK,
    )


def figure(page: Any, board: str, name: str) -> Any:
    return page.locator(f'[data-board="{board}"] [data-figure="{name}"]')


def test_a_supervisor_lands_on_the_wallboard_and_watches_it_change(
    page: Any, console: Console
) -> None:
    sign_in(page, "sam")  # lands on the wallboard
    expect(page.locator("h1")).to_have_text("Wallboard")
    expect(page.locator("#board-status")).to_contain_text("Live")
    waiting_before = int(figure(page, "all", "waiting").inner_text())
    abandoned_before = int(figure(page, "all", "abandoned_today").inner_text())
    answered_before = int(figure(page, "all", "answered_today").inner_text())
    check_page(page, "wallboard")

    ringing = Call(console, "+12025550131").ring()
    expect(figure(page, "all", "waiting")).to_have_text(str(waiting_before + 1))
    expect(figure(page, "3", "waiting")).not_to_have_text("0")
    expect(figure(page, "3", "longest_wait")).not_to_have_text(NOTHING)
    ringing.answer()
    expect(figure(page, "all", "waiting")).to_have_text(str(waiting_before))
    expect(figure(page, "all", "answered_today")).to_have_text(str(answered_before + 1))
    expect(figure(page, "3", "service_level")).not_to_have_text(NOTHING)
    expect(figure(page, "3", "agents.busy")).to_have_text("1")  # ana, on the call

    given_up = Call(console, "+12025550132").ring()
    expect(figure(page, "all", "waiting")).to_have_text(str(waiting_before + 1))
    given_up.end(seconds=25)
    expect(figure(page, "all", "abandoned_today")).to_have_text(str(abandoned_before + 1))
    expect(figure(page, "all", "waiting")).to_have_text(str(waiting_before))
    ringing.end()
    screenshot(page, "oversight-wallboard")


def test_the_wallboard_names_the_staff_in_each_state(page: Any, console: Console) -> None:
    assert console.api(
        "PUT", "/api/me/presence", console.agent_token, json={"state": "available"}
    ).is_success
    sign_in(page, "sam")
    expect(figure(page, "3", "names.available")).to_have_text("ana")
    expect(figure(page, "all", "names.available")).to_contain_text("ana")
    away = console.api("PUT", "/api/me/presence", console.agent_token, json={"state": "away"})
    assert away.status_code == 200, away.text
    expect(figure(page, "3", "names.away")).to_have_text("ana")  # live, no reload
    expect(figure(page, "3", "names.available")).to_have_text("")
    expect(figure(page, "3", "agents.away")).to_have_text("1")
    check_page(page, "wallboard with names")
    console.api("PUT", "/api/me/presence", console.agent_token, json={"state": "available"})


def test_the_call_log_shows_one_row_per_call_and_finds_a_caller(
    page: Any, console: Console, fake_twilio_server: FakeTwilio
) -> None:
    answered, rsid = recorded_call(console, fake_twilio_server, "+12025550161", answered=True)
    filed = console.file_request(
        service_code="streetlight",
        description="Light out at the corner",
        address="12 Elm St",
        call_sid=answered.sid,
        contact={"phone": "(202) 555-0161"},
    )
    Call(console, "+12025550162").ring().end(seconds=20)

    sign_in(page, "sam")
    page.get_by_role("link", name="Call log").click()
    page.wait_for_url("**/console/calls")
    rows = page.locator("#calls tbody tr")
    expect(rows.first).to_be_visible()
    legs = console.sql("SELECT count(*) FROM calls WHERE parent_call_sid = :sid", sid=answered.sid)
    assert legs[0][0] == 1  # the agent's leg is in the table, not in the log
    mine = rows.filter(has_text="(202) 555-0161")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("ana")
    expect(mine).to_contain_text("Answered after")
    expect(mine.get_by_role("link", name=filed)).to_have_attribute(
        "href", f"/console/requests/{filed}"
    )
    expect(rows.filter(has_text="(202) 555-0162")).to_contain_text("Abandoned")
    expect(mine.get_by_role("link", name="Recording")).to_have_attribute(
        "href", f"/console/recordings/{rsid}"
    )

    page.get_by_label("Caller's number").fill("(202) 555-0161")
    page.get_by_role("button", name="Find calls").click()
    expect(page.locator("#calls-status")).to_have_text("1 call from that number.")
    expect(rows).to_have_count(1)
    assert "0161" not in address_of(page)
    check_page(page, "call-log")
    page.get_by_label("Caller's number").fill("12")
    page.get_by_role("button", name="Find calls").click()
    expect(page.locator('[data-error-for="phone"]')).not_to_be_empty()
    expect(page.locator("#calls")).to_be_hidden()  # no stale results
    page.get_by_role("button", name="Show the whole log").click()
    expect(rows.filter(has_text="(202) 555-0162")).to_have_count(1)
    expect(page.locator('[data-error-for="phone"]')).to_be_empty()
    rows.filter(has_text="(202) 555-0161").get_by_role("link", name="Recording").click()
    page.wait_for_url(f"**/console/recordings/{rsid}")


def test_a_contact_in_the_call_log_opens_its_calls_workspace(page: Any, console: Console) -> None:
    call = Call(console, "+12025550165").ring()
    call.answer()  # ana's contact opens
    call.end()
    sign_in(page, "sam")
    page.goto("/console/calls")
    row = page.locator("#calls tbody tr").filter(has_text="(202) 555-0165")
    contact = row.get_by_role("link", name=re.compile(r"^Contact CT-"))
    expect(contact).to_have_attribute("href", f"/console/workspace?call={call.sid}")
    contact.click()
    page.wait_for_url(f"**/console/workspace?call={call.sid}")
    expect(page.locator("#ws-number")).to_have_text("(202) 555-0165")

    # The privacy officer reads the log but has no workspace: the contact stays text.
    page.context.clear_cookies()
    sign_in(page, "pia")
    page.goto("/console/calls")
    row = page.locator("#calls tbody tr").filter(has_text="(202) 555-0165")
    expect(row).to_contain_text("Contact CT-")
    expect(row.get_by_role("link", name=re.compile(r"^Contact CT-"))).to_have_count(0)


def test_a_supervisor_builds_a_qa_form_and_changes_its_weights(page: Any, console: Console) -> None:
    sign_in(page, "sam")
    page.get_by_role("link", name="QA forms").click()
    page.wait_for_url("**/console/qa/forms")
    page.get_by_label("Form name").fill("Courtesy and accuracy")
    page.get_by_label("Section title").fill("Opening")
    page.get_by_label("Question", exact=True).fill("Greeted the caller by the script")
    page.get_by_label("Weight").fill("2")
    page.get_by_role("button", name="Add a question to this section").click()
    second = page.locator(".qa-question").nth(1)
    expect(second.get_by_label("Question", exact=True)).to_be_focused()
    second.get_by_label("Question", exact=True).fill("Explained the next steps clearly")
    second.get_by_label("Answered with").select_option("scale")
    second.get_by_label("Highest score").fill("5")
    expect(page.locator(".qa-question").first.locator(".share")).to_have_text("67% of the score")
    page.locator(".qa-question").first.get_by_label("Critical").check()
    check_page(page, "qa-forms")
    page.get_by_role("button", name="Save the form").click()
    expect(page.locator("#qa-saved")).to_have_text("Saved “Courtesy and accuracy”, version 1.")

    # A new version: the form in use is loaded into the builder, a weight changed.
    page.get_by_label("Start from").select_option(label="Courtesy and accuracy (version 1)")
    page.locator(".qa-question").nth(1).get_by_label("Weight").fill("2")
    expect(page.locator(".qa-question").first.locator(".share")).to_have_text("50% of the score")
    page.get_by_role("button", name="Save the form").click()
    expect(page.locator("#qa-saved")).to_have_text("Saved “Courtesy and accuracy”, version 2.")
    forms = console.api("GET", "/api/qa/forms", console.supervisor_token).json()
    form = next(f for f in forms if f["name"] == "Courtesy and accuracy")
    questions = form["sections"][0]["questions"]
    assert form["version"] == 2 and [q["weight"] for q in questions] == [2, 2]
    assert questions[0]["critical"] and questions[1]["kind"] == "scale"
    assert questions[1]["scale_max"] == 5

    page.get_by_label("Section title").fill("")
    page.get_by_role("button", name="Save the form").click()
    expect(page.locator("[data-form-error]").first).not_to_be_empty()


def test_the_privacy_officer_confirms_decisions_and_a_late_answer_stays_late(
    page: Any, console: Console
) -> None:
    sign_in(page, "pia")  # lands on the due list
    expect(page.locator("h1")).to_have_text("Access requests")
    received = (datetime.now(CITY) - timedelta(days=14)).date()
    for n in range(6):
        evidence = f"Signature compared with the one on file ({n + 1})"
        recorded = console.api(
            "POST",
            "/api/privacy/requests",
            console.tokens["pia"],
            json={
                "received_on": received.isoformat(),
                "channel": "mail",
                "kinds": ["access"],
                "identity_evidence": evidence,
                "requester": {"phone": "(302) 555-0144"},
            },
        )
        assert recorded.status_code == 201, recorded.text
    page.reload()
    rows = page.locator("#requests tbody tr")
    expect(rows).to_have_count(6)
    first_id = rows.first.get_attribute("data-id")
    expect(rows.first).to_contain_text("overdue")
    expect(rows.first).to_contain_text(f"{received.day} {received:%B} {received.year}")
    check_page(page, "due-list")

    # Acknowledging asks first; cancelling changes nothing.
    rows.first.get_by_role("button", name="Acknowledge").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Acknowledge {first_id}?")
    note("due-list dialog @1280", assert_accessible(page, "the confirmation dialog"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(rows.first).to_contain_text("Received, not yet answered")
    rows.first.get_by_role("button", name="Acknowledge").click()
    dialog.get_by_role("button", name="Acknowledge").click()
    acknowledged = page.locator(f'#requests tbody tr[data-id="{first_id}"]')
    expect(acknowledged).to_contain_text("Decision by")
    expect(acknowledged).to_contain_text("Answered late")  # late, and it stays so

    # Refusing asks for the reasons; the decided row stays put under the pointer.
    acknowledged.get_by_role("button", name="Refuse").click()
    dialog.get_by_role("button", name="Refuse").click()
    expect(dialog.locator('[data-error-for="reason"]')).to_contain_text("reasons")
    dialog.get_by_label("Reasons for refusing").fill("The records asked for are another person's.")
    dialog.get_by_role("button", name="Refuse").focus()
    page.keyboard.press("Enter")  # from the keyboard: the list waits for the focus
    expect(dialog).to_be_hidden()
    expect(acknowledged).to_contain_text("Refused")
    expect(acknowledged.locator("td").first).to_be_focused()
    expect(rows).to_have_count(6)  # not re-sorted under the officer's hand
    expect(page.locator("#resort-note")).to_be_visible()
    page.locator("h1").click()  # focus leaves the list
    expect(rows).to_have_count(5)
    expect(page.locator(f'#requests tbody tr[data-id="{first_id}"]')).to_have_count(0)

    # From the pointer: the list waits while the pointer is over it.
    remaining = page.locator(f'#requests tbody tr[data-id="{rows.first.get_attribute("data-id")}"]')
    remaining.get_by_role("button", name="Grant").click()
    confirm = dialog.get_by_role("button", name="Grant access").bounding_box()
    listed = page.locator("#requests").bounding_box()
    assert confirm and listed and listed["y"] < confirm["y"] < listed["y"] + listed["height"]
    dialog.get_by_role("button", name="Grant access").click()
    expect(dialog).to_be_hidden()
    expect(remaining).to_contain_text("Granted")
    expect(rows).to_have_count(5)
    expect(page.locator("#resort-note")).to_be_visible()
    page.mouse.move(5, 5)
    expect(rows).to_have_count(4)

    page.get_by_label("All").check()
    refused = page.locator(f'#requests tbody tr[data-id="{first_id}"]')
    expect(refused).to_contain_text("Answered late")
    href = refused.get_by_role("link", name="denial letter").get_attribute("href")
    letter = page.context.request.get(href).text()
    today = datetime.now(CITY).date()
    assert f"{received.day} {received:%B} {received.year}" in letter
    assert f"{today.day} {today:%B} {today.year}" in letter
    screenshot(page, "oversight-due-list")


def test_the_audit_viewer_filters_folds_formats_and_exports(page: Any, console: Console) -> None:
    console.api("GET", "/api/calls/log", console.supervisor_token)
    sign_in(page, "pia", lands_on="/console/privacy/requests")
    page.get_by_role("link", name="Audit trail").click()
    page.wait_for_url("**/console/audit")
    expect(page.locator("#audit-status")).to_contain_text("entries shown")
    for _ in range(2):  # the officer's own readings pile up
        page.get_by_role("button", name="Show entries").click()
        expect(page.locator("#audit-status")).to_contain_text("entries shown")
    fold = page.locator("tr.fold").first
    expect(fold).to_contain_text("Your own")
    show = fold.get_by_role("button", name="Show them")
    expect(show).to_have_attribute("aria-expanded", "false")
    show.click()
    expect(page.locator("tr.fold").first.get_by_role("button", name="Hide them")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(page.locator("tr.folded").first).to_be_visible()
    check_page(page, "audit")

    page.get_by_label("Staff member").fill("sam")
    page.get_by_label("Action").select_option("calls.list")
    page.get_by_role("button", name="Show entries").click()
    rows = page.locator("#audit tbody tr")
    expect(rows.first).to_contain_text("sam (supervisor)")
    expect(rows.first.locator("dl.detail")).to_contain_text("Results")
    assert "{" not in rows.first.locator("td").last.inner_text()  # fields, not JSON
    with page.expect_download() as download:
        page.get_by_role("button", name="Download these entries (CSV)").click()
    text = download.value.path().read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert exported and {row["actor_name"] for row in exported} == {"sam"}
    assert {row["action"] for row in exported} == {"calls.list"}
    expect(page.locator("#export-status")).to_contain_text("recorded in the trail")
    audited = console.api("GET", "/api/audit?action=audit.export", console.tokens["pia"]).json()[
        "items"
    ]
    assert audited and audited[0]["detail"]["filters"] == ["action", "actor_name"]


def test_the_due_list_shows_the_view_asked_for_last_whatever_answers_first(
    page: Any, console: Console
) -> None:
    """An older, slower answer (the open requests, or a re-sort) must not replace the
    list the officer switched to after it."""
    recorded = console.api(
        "POST",
        "/api/privacy/requests",
        console.tokens["pia"],
        json={
            "received_on": datetime.now(CITY).date().isoformat(),
            "channel": "mail",
            "kinds": ["access"],
            "identity_evidence": "Signature compared with the one on file",
            "requester": {"phone": "(302) 555-0145"},
        },
    )
    assert recorded.status_code == 201, recorded.text
    closed = recorded.json()["id"]
    refused = console.api(
        "POST",
        f"/api/privacy/requests/{closed}/decide",
        console.tokens["pia"],
        json={"decision": "denied", "reason": "Not the person the records are about"},
    )
    assert refused.status_code == 200, refused.text
    sign_in(page, "pia")
    page.get_by_label("All").check()
    expect(page.locator(f'#requests tbody tr[data-id="{closed}"]')).to_have_count(1)

    def open_slowly(route: Any) -> None:
        if "which=open" in route.request.url:
            page.wait_for_timeout(1500)
        route.continue_()

    page.route("**/api/privacy/requests?*", open_slowly)
    page.get_by_label("Open, soonest deadline first").check()  # answers slowly...
    page.get_by_label("All").check()  # ...after this one
    page.wait_for_timeout(2500)
    expect(page.get_by_label("All")).to_be_checked()
    expect(page.locator(f'#requests tbody tr[data-id="{closed}"]')).to_have_count(1)


def recorded_call(
    console: Console, fake_twilio: FakeTwilio, caller: str, answered: bool
) -> tuple[Call, str]:
    """A call with a six-second recording, answered by ana or by nobody, now over; the
    call and its recording sid."""
    call = Call(console, caller).ring()
    if answered:
        call.answer()
    rsid = "RE" + secrets.token_hex(16)
    fake_twilio.holds_recording(rsid, call_recording(6.0))
    recorded = console.webhook(
        "/twilio/recordings", recording_params(call.sid, rsid, seconds=6, start=None)
    )
    assert recorded.status_code == 204, recorded.text
    call.end()
    return call, rsid


def test_agents_read_their_own_evaluations_and_a_supervisor_reads_and_filters_all(
    page: Any, console: Console, fake_twilio_server: FakeTwilio
) -> None:
    added = switchboard_batch(
        console.env,
        *[
            (["users", "add", name, "--role", "agent", "--password-stdin"], PASSWORD + "\n")
            for name in ("bea", "cal")
        ],
    )
    assert [a.returncode for a in added] == [0, 0], [a.stderr for a in added]
    form = console.qa_form(
        {**GREETING, "critical": True},
        {"id": "clarity", "text": "Spoke clearly", "kind": "scale", "weight": 2, "scale_max": 5},
    )

    def evaluate(rsid: str, agent: str, answers: dict[str, Any], comment: str) -> None:
        made = console.api(
            "POST",
            f"/api/recordings/{rsid}/evaluations",
            console.supervisor_token,
            json={
                "form_id": form["id"],
                "agent": agent,
                "answers": answers,
                "comments": [{"at_seconds": 3, "text": comment}],
            },
        )
        assert made.status_code == 201, made.text

    _, anas = recorded_call(console, fake_twilio_server, "+12025550171", answered=True)
    _, beas = recorded_call(console, fake_twilio_server, "+12025550172", answered=False)
    evaluate(anas, "ana", {"greeting": "yes", "clarity": 4}, "Good recap of the request")
    evaluate(beas, "bea", {"greeting": "no", "clarity": 5}, "No greeting at all")

    # An agent with none yet is told so.
    signed_in(page, "cal")
    page.goto("/console/evaluations")
    status = page.locator("#evaluations-status")
    expect(status).to_have_text("No evaluations yet.")
    expect(page.locator("#evaluations")).to_be_hidden()
    expect(page.locator("#evaluation-filters")).to_have_count(0)

    # Ana reads her own, with its score and comment, and nobody else's; a recording she
    # may not open is not offered as a link.
    page.context.clear_cookies()
    sign_in(page, "ana")
    page.get_by_role("link", name="Evaluations").click()
    page.wait_for_url("**/console/evaluations")
    expect(page.locator(".lead")).to_have_text("Your own evaluations.")
    rows = page.locator("#evaluations tbody tr")
    expect(rows).to_have_count(1)
    expect(status).to_have_text("1 shown.")
    mine = rows.first
    expect(mine).to_contain_text("ana")
    expect(mine).to_contain_text(f"Call basics v{form['version']}")
    expect(mine).to_contain_text("86.7%")
    expect(mine).to_contain_text("sam")
    expect(mine).to_contain_text("0:03 Good recap of the request")
    expect(page.locator("#evaluations")).not_to_contain_text("No greeting at all")
    expect(mine.get_by_role("link")).to_have_count(0)
    check_page(page, "evaluations-agent")
    theirs = console.api("GET", "/api/qa/evaluations?agent=bea", console.agent_token).json()
    assert [e["agent"] for e in theirs] == ["ana"]  # asking for another's gives one's own

    # The supervisor sees everyone's and filters by agent.
    page.context.clear_cookies()
    sign_in(page, "sam")
    page.goto("/console/evaluations")
    expect(rows.filter(has_text="Good recap of the request")).to_have_count(1)
    beas_row = rows.filter(has_text="No greeting at all")
    expect(beas_row).to_contain_text("0% (critical failed)")
    expect(beas_row).to_contain_text("bea")
    check_page(page, "evaluations-supervisor")
    every = rows.count()
    page.get_by_label("Agent (optional)").fill("bea")
    page.get_by_role("button", name="Show evaluations").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("No greeting at all")
    page.get_by_label("Agent (optional)").fill("nobody")
    page.get_by_role("button", name="Show evaluations").click()
    expect(status).to_have_text("No evaluations of nobody.")
    expect(page.locator("#evaluations")).to_be_hidden()

    # The list shows the filter asked for last, whatever answers first.
    def bea_slowly(route: Any) -> None:
        if "agent=bea" in route.request.url:
            page.wait_for_timeout(1500)
        route.continue_()

    page.route("**/api/qa/evaluations?*", bea_slowly)
    page.get_by_label("Agent (optional)").fill("bea")
    page.get_by_role("button", name="Show evaluations").click()  # answers slowly...
    page.get_by_label("Agent (optional)").fill("")
    page.get_by_role("button", name="Show evaluations").click()  # ...after this one
    page.wait_for_timeout(2500)
    expect(rows).to_have_count(every)
    page.unroute("**/api/qa/evaluations?*")

    # A supervisor opens the recording scored.
    rows.filter(has_text="Good recap of the request").get_by_role("link", name="Recording").click()
    page.wait_for_url(f"**/console/recordings/{anas}")
