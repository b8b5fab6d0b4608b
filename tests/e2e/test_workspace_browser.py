"""The call taker's workspace in a real browser, on SQLite and PostgreSQL: drafts kept
per call, one page per call (the caller's history, the knowledge base, the request form
and the wrap-up side by side), and the core loop counted in clicks and page loads.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.browser import Console, sign_in
from tests.support import TEST_ACCOUNT_SID, call_sid

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
REQUEST_ID = re.compile(r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")


def ring(console: Console, caller: str) -> str:
    """A call from ``caller`` that picks extension 3 (ana's) in the menu: it rings."""
    sid = call_sid()
    base = {
        "AccountSid": TEST_ACCOUNT_SID,
        "CallSid": sid,
        "From": caller,
        "To": "+12025550100",
        "Direction": "inbound",
    }
    assert console.webhook("/twilio/voice", {**base, "CallStatus": "ringing"}).status_code == 200
    chosen = console.webhook(
        "/twilio/voice/gather?lang=en&attempt=1",
        {**base, "CallStatus": "in-progress", "Digits": "3"},
    )
    assert chosen.status_code == 200, chosen.text
    return sid


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
