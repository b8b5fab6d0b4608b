"""The administrators' console in a real browser: helping a person back in (a temporary
password, a lockout lifted, their API tokens), the service catalogue, the IVR menu and
how the line answers, and a retention dry run as of a chosen date. Every page changed
here is checked with axe-core at 1280 and 768 px and must not scroll sideways at 768."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.browser import (
    DESKTOP,
    PASSWORD,
    Console,
    assert_accessible,
    assert_both_widths,
    screenshot,
    sign_in,
    signed_in,
)
from tests.support import CITY, TEST_ACCOUNT_SID, call_sid, switchboard

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def _checked(page: Any, name: str) -> None:
    """axe at both widths, nothing sideways at 768 px (nor any table scrolled within
    its frame at 1280 px), a screenshot of each."""
    scrolled = page.eval_on_selector_all(
        ".table-wrap", "frames => frames.filter(f => f.scrollWidth > f.clientWidth).length"
    )
    assert scrolled == 0, f"{name}: a table scrolls sideways at 1280 px"
    screenshot(page, f"admin_{name}_1280")
    assert_both_widths(page, name, f"admin_{name}_768")


def _password_resets(console: Console) -> int:
    trail = console.api("GET", "/api/audit?action=staff.password_reset", console.tokens["pia"])
    return len(trail.json()["items"])


def test_an_administrator_helps_a_locked_out_person_back_in(
    page: Any, browser: Any, console: Console
) -> None:
    added = console.api(
        "POST",
        "/api/staff",
        console.tokens["ada"],
        json={"username": "wes", "role": "knowledge_editor", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    answers = [
        httpx.post(
            f"{console.url}/api/session", json={"username": "wes", "password": tried}, timeout=10
        ).status_code
        for tried in ["wrong wrong wrong"] * 5 + [PASSWORD]  # five failures lock the name
    ]
    assert answers == [401] * 5 + [429]

    signed_in(page, "ada")
    page.goto("/console/admin/staff")
    row = page.locator("#staff tbody tr", has_text="wes")
    expect(row).to_contain_text("Locked until")
    expect(row).to_contain_text("Last sign-in: never")
    _checked(page, "staff")

    # Unlock: one click.
    row.get_by_role("button", name="Unlock wes").click()
    expect(row).to_contain_text("Unlocked.")

    # A forgotten password: confirm, read the temporary one once, hide it.
    row.get_by_role("button", name="Reset the password of wes").click()
    dialog = page.locator("#reset")
    expect(dialog).to_be_visible()
    # A double click issues one temporary password (the button is disabled while sent).
    resets_before = _password_resets(console)
    dialog.get_by_role("button", name="Reset the password").dblclick()
    code = dialog.locator("[data-reset-password]")
    expect(code).not_to_be_empty()
    temporary = code.inner_text()
    expect(dialog).to_contain_text("It works once, until")
    assert_accessible(page, "the temporary password dialog")
    screenshot(page, "admin_temporary_password")
    dialog.get_by_role("button", name="Done: hide it").click()
    expect(dialog).to_be_hidden()
    assert temporary not in page.content()
    expect(page.locator("#staff tbody tr", has_text="wes")).to_contain_text("Temporary password")
    assert _password_resets(console) == resets_before + 1

    # Wes signs in with it and must choose a password of their own.
    other = browser.new_context(base_url=console.url, viewport=DESKTOP)
    theirs = other.new_page()
    theirs.goto("/console/sign-in")
    theirs.get_by_label("Username", exact=True).fill("wes")
    theirs.get_by_label("Password", exact=True).fill(temporary)
    theirs.get_by_role("button", name="Sign in").click()
    fresh = theirs.get_by_label("Choose a new password")
    expect(fresh).to_be_focused()
    expect(theirs.locator("[data-form-error]")).to_contain_text("choose your own")
    assert_accessible(theirs, "sign-in asking for a new password")
    fresh.fill("wes's own long passphrase")
    theirs.get_by_role("button", name="Sign in").click()
    theirs.wait_for_url("**/console/knowledge")
    other.close()

    # The last sign-in shows, and wes's API tokens can be listed and revoked.
    issued = switchboard(console.env, "tokens", "issue", "wes", "--days", "1")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert console.api("GET", "/api/kb/articles", token).status_code != 401
    page.reload()
    row = page.locator("#staff tbody tr", has_text="wes")
    expect(row).not_to_contain_text("Last sign-in: never")
    expect(row).to_contain_text("Not locked")
    row.get_by_role("button", name="API tokens of wes").click()
    tokens = page.locator("#token-list")
    expect(tokens).to_contain_text("in use")
    _checked(page, "staff_tokens")
    tokens.get_by_role("button", name="Revoke").first.click()
    expect(tokens).to_contain_text("Revoked.")
    assert console.api("GET", "/api/kb/articles", token).status_code == 401
    trail = console.api("GET", "/api/audit?action=staff.unlock", console.tokens["pia"])
    assert trail.status_code == 200 and trail.json()["items"], trail.text


def test_an_administrator_edits_services_the_menu_the_line_and_looks_ahead_at_retention(
    page: Any, console: Console
) -> None:
    signed_in(page, "ada")

    # A service renamed, moved, found by new keywords, and retired, in its row.
    page.goto("/console/admin/services")
    row = page.locator('tr[data-service-row="graffiti"]')
    row.get_by_label("Name of Graffiti").fill("Graffiti removal")
    row.get_by_label("Department of Graffiti").fill("Clean Streets")
    row.get_by_label("Keywords for Graffiti, separated by commas").fill("Paint, tag, Mural")
    row.get_by_role("button", name="Save Graffiti").click()
    expect(row).to_contain_text("Saved; offered.")
    expect(row.get_by_label("Keywords for Graffiti, separated by commas")).to_have_value(
        "paint, tag, mural"
    )
    row.get_by_label("Graffiti offered").uncheck()
    expect(row).to_contain_text("Saved; retired.")
    offered = console.api("GET", "/api/services", console.tokens["sam"]).json()["items"]
    assert "graffiti" not in [s["code"] for s in offered]
    _checked(page, "services")

    # The menu: a key added, then removed (a second click confirms).
    page.goto("/console/admin/extensions")
    add = page.locator("#new-extension")

    def add_key(key: str, english: str, spanish: str, rings: str) -> None:
        add.get_by_label("Key", exact=True).fill(key)
        add.get_by_label("Name (English)").fill(english)
        add.get_by_label("Name (Spanish)").fill(spanish)
        add.get_by_label("Rings").fill(rings)
        add.get_by_role("button", name="Add the key").click()

    add_key("6", "parks and trees", "parques y árboles", "client:parks")
    expect(page.locator("#extensions-status")).to_contain_text("Key 6 added")
    add_key("9", "anything", "cualquier", "client:x")
    expect(add.locator('[data-error-for="digits"]')).to_contain_text("Spanish")
    _checked(page, "extensions")
    page.get_by_role("button", name="Remove key 6").click()
    page.get_by_role("button", name="Confirm: remove key 6 from the menu").click()
    expect(page.locator("#extensions-status")).to_contain_text("Key 6 removed")
    expect(page.locator("#extensions")).not_to_contain_text("parks and trees")

    # How the line answers: hours that do not read are named; the welcome is saved.
    line = page.locator("#line")
    expect(page.locator("#line-open")).to_contain_text("The line is open now")
    line.get_by_label("Business hours (optional)").fill("weekdays 8 to 6")
    line.get_by_role("button", name="Save how the line answers").click()
    expect(line.locator('[data-error-for="hours"]')).to_contain_text("not like")
    line.get_by_label("Business hours (optional)").fill("mon-sun 00:00-24:00")
    line.get_by_label("Welcome (English) (optional)").fill("You have reached the city's 311.")
    line.get_by_role("button", name="Save how the line answers").click()
    expect(page.locator("#line-saved")).to_have_text("Saved.")
    answer = console.api("GET", "/api/ivr/line", console.tokens["ada"]).json()
    assert answer["welcome_en"] == "You have reached the city's 311."
    assert answer["hours_set"] is True

    # Retention: what the purge would destroy three years from now; nothing is deleted.
    sid = call_sid()
    rang = console.webhook(
        "/twilio/voice",
        {
            "AccountSid": TEST_ACCOUNT_SID,
            "CallSid": sid,
            "From": "+12025550142",
            "To": "+12025550100",
            "CallStatus": "ringing",
        },
    )
    assert rang.status_code == 200
    before = console.sql("SELECT count(*) FROM call_events")[0][0]
    page.goto("/console/admin/retention")
    ahead = (datetime.now(CITY) + timedelta(days=3 * 365)).date().isoformat()
    page.get_by_label("As of (optional)").fill(ahead)
    page.get_by_role("button", name="Count", exact=True).click()
    status = page.locator("#dry-run-status")
    expect(status).to_contain_text("would be destroyed. Nothing was deleted.")
    row = page.locator("#dry-run-result tbody tr", has_text="webhook log")
    assert int(row.locator("td").nth(1).inner_text()) >= 1
    _checked(page, "retention")
    assert console.sql("SELECT count(*) FROM call_events")[0][0] == before


def test_a_second_administrator_approves_what_another_asked_for(
    page: Any, browser: Any, console: Console
) -> None:
    """Accounts and roles that read personal data wait for a second person: the
    administrator who asked is refused, another approves or turns them down, and what
    was approved is in force (the new privacy officer signs in), each step audited."""
    added = switchboard(
        console.env, "users", "add", "abe", "--role", "admin", "--password-stdin", stdin=PASSWORD
    )
    assert added.returncode == 0, added.stderr
    signed_in(page, "abe")
    page.goto("/console/admin/approvals")
    status = page.locator("#approvals-status")
    expect(status).to_have_text("Nothing waits for approval.")
    expect(page.locator("#approvals")).to_be_hidden()

    # Ada asks for a new privacy officer, a knowledge editor made a supervisor, and an
    # agent's account (to be turned down).
    ada = console.tokens["ada"]

    def account(username: str, role: str) -> dict[str, Any]:
        made = console.api(
            "POST",
            "/api/staff",
            ada,
            json={"username": username, "role": role, "password": PASSWORD},
        )
        assert made.status_code == 201, made.text
        return dict(made.json())

    pat = account("pat", "privacy_officer")
    assert pat["approved"] is False
    kit = account("kit", "knowledge_editor")
    changed = console.api("PATCH", f"/api/staff/{kit['id']}", ada, json={"role": "supervisor"})
    assert changed.status_code == 200 and changed.json()["pending_role"] == "supervisor"
    rex = account("rex", "agent")

    def signs_in(username: str) -> int:
        return httpx.post(
            f"{console.url}/api/session",
            json={"username": username, "password": PASSWORD},
            timeout=10,
        ).status_code

    assert signs_in("pat") != 201  # not in force until approved

    # The one who asked may not approve it (the server refuses it): the row offers no
    # Approve and says who does; it still waits.
    hers = browser.new_context(base_url=console.url, viewport=DESKTOP)
    asker = hers.new_page()
    signed_in(asker, "ada")
    asker.goto("/console/admin/approvals")
    row = asker.locator("#approvals tbody tr", has_text="pat")
    expect(row).to_contain_text("the account")
    expect(row).to_contain_text("privacy officer")
    expect(row).to_contain_text("ada")
    expect(row.get_by_role("button", name="Approve pat")).to_have_count(0)
    expect(row).to_contain_text("You asked for this: another administrator")
    expect(row.get_by_role("button", name="Turn down pat")).to_be_enabled()
    screenshot(asker, "admin_approvals_refused")
    hers.close()
    assert signs_in("pat") != 201

    # Abe, the second administrator, sees the three and approves the privacy officer.
    page.reload()
    rows = page.locator("#approvals tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="kit")).to_contain_text("a change of role (now knowledge editor)")
    expect(rows.filter(has_text="kit")).to_contain_text("supervisor")
    _checked(page, "approvals")
    row = rows.filter(has_text="pat")
    row.get_by_role("button", name="Approve pat").click()
    expect(row).to_contain_text("Approved.")
    # Nothing is left to decide on that row: neither button sends again.
    expect(row.get_by_role("button", name="Approve pat")).to_be_disabled()
    expect(row.get_by_role("button", name="Turn down pat")).to_be_disabled()
    expect(rows).to_have_count(2)
    # What was decided stays said once its row has gone.
    expect(page.locator("#approvals-done")).to_have_text(
        "Approved: pat, the account (privacy officer)."
    )

    # A double click approves once (the trail below has one approval of kit): the second
    # click is not sent as a second approval, refused or not.
    rows.filter(has_text="kit").get_by_role("button", name="Approve kit").dblclick()
    expect(rows).to_have_count(1)

    # The agent's account is turned down; then nothing waits.
    rows.filter(has_text="rex").get_by_role("button", name="Turn down rex").click()
    expect(rows.filter(has_text="rex")).to_contain_text("Turned down.")
    expect(status).to_have_text("Nothing waits for approval.")
    screenshot(page, "admin_approvals_done")

    # What was approved is in force; what was turned down is not.
    theirs = browser.new_context(base_url=console.url, viewport=DESKTOP)
    officer = theirs.new_page()
    sign_in(officer, "pat", "/console/privacy/requests")
    expect(officer.locator("h1")).to_have_text("Access requests")
    theirs.close()
    staff = {s["username"]: s for s in console.api("GET", "/api/staff", ada).json()["items"]}
    assert staff["pat"]["approved"] and staff["pat"]["role"] == "privacy_officer"
    assert staff["kit"]["role"] == "supervisor" and staff["kit"]["pending_role"] is None
    assert staff["rex"]["disabled"] and signs_in("rex") != 201

    # Each step is in the audit trail.
    def trail(action: str) -> list[tuple[str, str, str]]:
        found = console.api("GET", f"/api/audit?action={action}", console.tokens["pia"])
        assert found.status_code == 200, found.text
        return [(e["actor_name"], e["object_id"], e["outcome"]) for e in found.json()["items"]]

    approvals = trail("staff.approve")
    assert not [a for a in approvals if a[0] == "ada"]  # never offered, never sent
    assert ("abe", str(pat["id"]), "ok") in approvals
    assert [a for a in approvals if a[1] == str(kit["id"])] == [("abe", str(kit["id"]), "ok")]
    assert ("abe", str(rex["id"]), "ok") in trail("staff.reject")
