"""Every console page, for every role, at a desktop and a tablet width: axe-core finds
nothing serious or critical, and nothing scrolls sideways at 768 px.

The pages come from the console's own list (services/console/navigation.PAGES), so a
page added there is swept without touching this module; the recording page and the
sign-in page are added by hand. The server is seeded with a little of everything
(requests with contacts, calls, a processed recording, an access request, a QA form,
an update email and an alert sign-up's confirmation) so the tables are not empty when
they are checked.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from services.console.navigation import landing, visible_pages
from services.platform.roles import Role
from tests.audio import call_recording
from tests.e2e.browser import (
    ACCOUNTS,
    DESKTOP,
    GREETING,
    SCREENSHOTS,
    TABLET,
    Console,
    assert_accessible,
    assert_fits,
    screenshot,
    signed_in,
)
from tests.fakes.twilio_api import FakeTwilio
from tests.support import CITY, recording_params

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def console_backend() -> str:
    # The sweep checks how pages render and read, which does not depend on the database:
    # it runs on SQLite (every flow's data paths run on both in their own tests).
    return "sqlite"


# The harness has no communications account; this module adds one (no approval needed).
COMMUNICATIONS = ("cole", "communications")


def _call(console: Console, number: str, *, seconds: int, recording: str | None = None) -> str:
    """A caller's call through the menu to extension 3, answered and ended."""
    base = console.ring(number)
    sid = base["CallSid"]
    if recording is not None:
        answered = console.webhook(
            "/twilio/recordings", recording_params(sid, recording, seconds=8)
        )
        assert answered.status_code == 204, answered.text
    console.webhook(
        "/twilio/voice/status",
        {**base, "CallStatus": "completed", "CallDuration": str(seconds), "SequenceNumber": "9"},
    )
    return sid


def _seed(console: Console, fake_twilio: FakeTwilio) -> str:
    """A little of everything the pages list; returns the recording's sid."""
    for service, description, contact in (
        ("pothole", "Deep pothole outside the library", {"name": "Ines Moreau"}),
        ("streetlight", "Light out at the corner of Elm and 4th", {"phone": "(202) 555-0161"}),
    ):
        console.file_request(
            service_code=service, description=description, address="12 Elm St", contact=contact
        )
    # A caller who asked for updates by email, and a change to tell them of: the email
    # page's outbox lists it, and the console gateway keeps it with a sign-up's confirmation.
    updated = console.file_request(
        service_code="bulk-pickup",
        description="A sofa and two chairs",
        address="12 Elm St",
        contact={"email": "rae@example.org"},
        updates={"email": True},
    )
    changed = console.api(
        "POST",
        f"/api/requests/{updated}/status",
        console.agent_token,
        json={"status": "in_progress"},
    )
    assert changed.status_code == 200, changed.text
    signed_up = httpx.post(
        f"{console.url}/public/alerts/subscribe",
        json={"email": "lee@example.org", "language": "es"},
        timeout=10,
    )
    assert signed_up.status_code == 202, signed_up.text
    recording = "RE" + secrets.token_hex(16)
    fake_twilio.holds_recording(recording, call_recording(8.0))
    _call(console, "+12025550161", seconds=125, recording=recording)
    _call(console, "+12025550177", seconds=48)
    console.qa_form(GREETING)
    received = (datetime.now(CITY) - timedelta(days=1)).date().isoformat()
    asked = console.api(
        "POST",
        "/api/privacy/requests",
        console.tokens["pia"],
        json={
            "received_on": received,
            "channel": "mail",
            "kinds": ["access"],
            "identity_evidence": "Signature compared with the one on file",
            "requester": {"name": "Ines Moreau", "phone": "(202) 555-0161"},
        },
    )
    assert asked.status_code == 201, asked.text
    console.add_account(*COMMUNICATIONS)
    console.processed_recording(recording)
    return recording


def _settled(page: Any) -> None:
    """Wait until the page's script has loaded its lists ("Loading…" gone)."""
    # Not "networkidle": the screen pop and the call bar keep an event stream open.
    page.wait_for_load_state("load")
    sync_api.expect(page.locator("[role=status]", has_text="Loading…")).to_have_count(0)
    page.wait_for_timeout(300)


def _search(page: Any) -> None:
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Search for").fill("(202) 555-0161")
    page.get_by_role("button", name="Search").click()
    sync_api.expect(page.locator("#results tbody tr").first).to_be_visible()


def _count(page: Any) -> None:
    page.get_by_role("button", name="Count", exact=True).click()
    sync_api.expect(page.locator("#dry-run-result tbody tr").first).to_be_visible()


def _tokens(page: Any) -> None:
    page.get_by_role("button", name="API tokens of ana").click()
    sync_api.expect(page.locator("#token-list tbody tr").first).to_be_visible()


# What a person does on a page before it is checked, so its results are on show.
FILL = {
    "/console/requests/search": _search,
    "/console/admin/retention": _count,
    "/console/admin/staff": _tokens,
}


def _check(page: Any, path: str, name: str, results: dict[str, str]) -> None:
    failures: list[str] = []
    for label, viewport in (("1280", DESKTOP), ("768", TABLET)):
        page.set_viewport_size(viewport)
        response = page.goto(path)
        assert response is not None and response.status == 200, (name, path)
        _settled(page)
        if path in FILL:
            FILL[path](page)
        try:
            minor = assert_accessible(page, f"{path} as {name} at {label} px")
            assert_fits(page)
        except (AssertionError, pytest.fail.Exception) as failure:
            failures.append(str(failure))
            results[f"{name} {path} {label}"] = "FAIL"
        else:
            results[f"{name} {path} {label}"] = "ok" + (f" (minor: {minor})" if minor else "")
        screenshot(page, f"every-page_{name}_{path.strip('/').replace('/', '_')}_{label}")
    if failures:
        raise AssertionError("\n".join(failures))


def test_every_page_for_every_role_is_accessible_and_fits_a_tablet(
    browser: Any, console: Console, fake_twilio_server: FakeTwilio
) -> None:
    recording = _seed(console, fake_twilio_server)
    results: dict[str, str] = {}
    failures: list[str] = []
    accounts = [*ACCOUNTS, COMMUNICATIONS]
    # A page another role has been checked on is checked again only where it is this
    # role's landing page (the knowledge editor's knowledge base shows the editor).
    checked: set[str] = set()
    for name, role in accounts:
        context = browser.new_context(base_url=console.url, viewport=DESKTOP)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            signed_in(page, name)
            paths = [p.path for p in visible_pages(Role(role))]
            lands = landing(Role(role))
            if "/console/recordings" in paths:
                paths.append(f"/console/recordings/{recording}")
            for path in paths:
                if path in checked and (lands is None or path != lands.path):
                    continue
                checked.add(path)
                try:
                    _check(page, path, name, results)
                except AssertionError as failure:
                    failures.append(str(failure))
        finally:
            context.close()
    context = browser.new_context(base_url=console.url, viewport=DESKTOP)
    page = context.new_page()
    try:
        _check(page, "/console/sign-in", "anyone", results)
    except AssertionError as failure:
        failures.append(str(failure))
    finally:
        context.close()
    # The per-page results, for the note that reports them.
    report = SCREENSHOTS / f"every-page-{console.backend}.txt"
    report.write_text("".join(f"{key}: {value}\n" for key, value in sorted(results.items())))
    assert not failures, "\n\n".join(failures)
