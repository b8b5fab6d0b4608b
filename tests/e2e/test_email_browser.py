"""The email page in a real browser, on SQLite and PostgreSQL, with the console gateway
(the embedded default, as in a trial): a person signs up for news alerts on the public
form; a supervisor opens the email page, finds the confirmation among the emails the
gateway kept, and the person confirms with the link read there. The update emails of
the outbox are listed too.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.e2e.browser import DESKTOP, Console, assert_both_widths, screenshot, sign_in

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# The machine under test is shared: give a server answer longer than the default 5 s.
expect.set_options(timeout=15_000)

CONFIRM = re.compile(r"http://\S+/public/alerts/confirm/\S+")


def _subscribers(console: Console) -> int:
    return int(console.sql("SELECT count(*) FROM alert_subscribers")[0][0])


def _update_email(console: Console, address: str) -> str:
    """A request whose caller asked for updates by email, closed: the update email goes
    out through the in-process worker (waits up to 30 s). The request's number."""
    request = console.file_request(
        service_code="bulk-pickup",
        description="A sofa and two chairs",
        address="12 Elm St",
        contact={"name": "Rae Lind", "email": address},
        updates={"email": True},
    )
    closed = console.api(
        "POST", f"/api/requests/{request}/status", console.agent_token, json={"status": "closed"}
    )
    assert closed.status_code == 200, closed.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        outbox = console.api("GET", "/api/email/outbox", console.agent_token).json()["items"]
        if any(email["to"] == address and email["state"] == "sent" for email in outbox):
            return request
        time.sleep(0.3)
    pytest.fail("the update email was not sent")


def test_a_supervisor_reads_the_kept_confirmation_and_the_person_confirms_with_its_link(
    page: Any, browser: Any, console: Console
) -> None:
    rae = f"rae.{console.backend}@example.org"
    request = _update_email(console, rae)

    # Someone signs up on the public form, in their own browser.
    person = browser.new_context(base_url=console.url, viewport=DESKTOP)
    public = person.new_page()
    public.goto("/public/alerts")
    rosa = f"rosa.{console.backend}@example.org"
    public.get_by_label("email").fill(rosa)
    public.get_by_role("button", name="Sign up / Suscribirse").click()
    expect(public.get_by_role("heading", level=1)).to_have_text(
        "Check your email / Revise su correo"
    )

    # The supervisor opens the email page from the navigation.
    sign_in(page, "sam")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Email outbox").click()
    page.wait_for_url("**/console/email")
    expect(page.get_by_role("heading", level=1)).to_have_text("Email outbox")

    # The update email, in the outbox.
    row = page.locator("#email-outbox tbody tr", has_text=rae)
    expect(row).to_contain_text(request)
    expect(row).to_contain_text("sent")

    # The confirmation, kept by the gateway: it may still be on its way to it.
    kept = page.get_by_role("heading", name="Kept by the console gateway")
    expect(kept).to_be_visible()
    confirmation = page.locator("#kept li", has_text=rosa)
    deadline = time.monotonic() + 30
    while confirmation.count() == 0 and time.monotonic() < deadline:
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
    expect(confirmation).to_contain_text("Confirm your subscription to")
    # The update email was handed to the gateway too, before it.
    expect(page.locator("#kept li").first).to_contain_text(rosa)
    expect(page.locator("#kept li", has_text=rae)).to_contain_text(request)
    expect(page.locator("#kept-status")).to_have_text(
        re.compile(r"^\d+ emails kept, newest first\.$")
    )

    # Its link is text to read and copy, not a link followed from the console.
    text = confirmation.locator("pre")
    expect(confirmation.locator("a")).to_have_count(0)
    text.select_text()
    selected = page.evaluate("() => window.getSelection().toString()")
    link = CONFIRM.search(selected)
    assert link is not None, selected
    screenshot(page, "email_kept_1280")
    assert_both_widths(page, "the email page with kept emails", "email_kept_768")

    # The person opens the link (the address it was copied to) and confirms.
    assert _subscribers(console) == 0
    public.goto(link.group(0))
    public.get_by_role("button", name="Confirm / Confirmar").click()
    expect(public.get_by_role("heading", level=1)).to_have_text("Subscribed / Suscrito")
    person.close()
    assert _subscribers(console) == 1


def test_an_agent_may_read_it_and_a_communications_officer_may_not(
    page: Any, console: Console
) -> None:
    sign_in(page, "ana")
    expect(page.get_by_role("link", name="Email outbox")).to_be_visible()
    page.goto("/console/email")
    expect(page.locator("#kept-status")).not_to_have_text("Loading…")
    expect(page.locator("#email-outbox-status")).not_to_have_text("Loading…")

    cole = console.add_account("cole", "communications")
    page.context.clear_cookies()
    sign_in(page, cole, "/console/alerts")
    expect(page.get_by_role("link", name="Email outbox")).to_have_count(0)
    refused = page.goto("/console/email")
    assert refused is not None and refused.status == 403
