"""The console in a real browser: Debian's Chromium through Playwright, against a real
`switchboard serve` on SQLite or PostgreSQL, with axe-core run on the pages it shows.

The fixtures (`console`, `browser`, `page`) live in tests/e2e/conftest.py; a browser test
module uses them and the helpers here. Each module gets one server per backend, seeded
with one account per role; each test opens its own browser context (its own cookies)
and saves a screenshot under var/screenshots/.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from telephony.signature import sign
from tests.e2e.conftest import serving, set_up
from tests.ports import free_port
from tests.support import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, call_sid, cli_env

CHROMIUM = Path(os.environ.get("SWITCHBOARD_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "a long enough password"
# One account per role; the agent answers on extension 3.
ACCOUNTS = (
    ("ana", "agent"),
    ("sam", "supervisor"),
    ("pia", "privacy_officer"),
    ("ada", "admin"),
    ("kim", "knowledge_editor"),
)
# Where each role lands after signing in.
LANDING = {
    "ana": "/console/workspace",
    "sam": "/console/wallboard",
    "pia": "/console/privacy/requests",
    "ada": "/console/dashboard",
    "kim": "/console/knowledge",
}
# axe-core checks what a page shows, which the database under it does not change: it
# runs where the server is on SQLite; on PostgreSQL the same flows run without it.
AXE_BACKENDS = ("sqlite",)
# The database under each running console, by its address (the page's own server says
# which database it shows, whichever browser context opened it).
_BACKEND_AT: dict[str, str] = {}


# The first question of the QA forms the browser tests make (Console.qa_form).
GREETING = {"id": "greeting", "text": "Greeted the caller", "kind": "yes_no", "weight": 1}


# Viewports every page is checked at: a desktop and a tablet held upright.
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}


@dataclass
class Console:
    url: str
    database_url: str
    backend: str
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def agent_token(self) -> str:
        return self.tokens["ana"]

    @property
    def supervisor_token(self) -> str:
        return self.tokens["sam"]

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def add_account(self, username: str, role: str) -> str:
        """An account the harness does not make, added by the administrator ada (one
        whose role reads personal data then waits for a second person's approval)."""
        added = self.api(
            "POST",
            "/api/staff",
            self.tokens["ada"],
            json={"username": username, "role": role, "password": PASSWORD},
        )
        assert added.status_code == 201, added.text
        return username

    def webhook(self, path: str, params: dict[str, str]) -> httpx.Response:
        signature = sign(TEST_AUTH_TOKEN, self.url + path, params)
        return httpx.post(
            self.url + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
        )

    def ring(self, caller: str, *, sid: str | None = None, digits: str = "3") -> dict[str, str]:
        """A call from ``caller`` to the 311 line that picks ``digits`` in the menu (3 is
        ana's extension), so it rings there; returns the parameters its later callbacks
        share (CallSid, From, To...)."""
        base = {
            "AccountSid": TEST_ACCOUNT_SID,
            "CallSid": sid or call_sid(),
            "From": caller,
            "To": "+12025550100",
            "Direction": "inbound",
        }
        rang = self.webhook("/twilio/voice", {**base, "CallStatus": "ringing"})
        assert rang.status_code == 200, rang.text
        chosen = self.webhook(
            "/twilio/voice/gather?lang=en&attempt=1",
            {**base, "CallStatus": "in-progress", "Digits": digits},
        )
        assert chosen.status_code == 200, chosen.text
        return base

    def file_request(self, **body: Any) -> str:
        filed = self.api("POST", "/api/requests", self.agent_token, json=body)
        assert filed.status_code == 201, filed.text
        return str(filed.json()["id"])

    def qa_form(self, *questions: dict[str, Any]) -> dict[str, Any]:
        """A QA form, "Call basics", whose one section asks ``questions``, made by the
        supervisor; its JSON."""
        body = {"name": "Call basics", "sections": [{"title": "Opening", "questions": questions}]}
        made = self.api("POST", "/api/qa/forms", self.supervisor_token, json=body)
        assert made.status_code == 201, made.text
        form: dict[str, Any] = made.json()
        return form

    def processed_recording(self, recording_sid: str) -> dict[str, Any]:
        """The recording as the API shows it once it is processed (waits up to 60 s)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = self.api("GET", f"/api/recordings/{recording_sid}", self.supervisor_token)
            if found.status_code == 200 and found.json()["state"] == "done":
                return dict(found.json())
            time.sleep(0.3)
        pytest.fail("the recording was not processed in time")

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run one statement on the server's database (to set up or inspect state)."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.begin() as connection:
                result = connection.execute(sa.text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


@contextmanager
def running_console(
    root: Path, database_url: str, backend: str, twilio_api: str, **settings: str
) -> Iterator[Console]:
    """A migrated, seeded `switchboard serve` with one account per role and the starter
    knowledge base; ``settings`` override the environment (lower-case names)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    defaults = {
        "public_url": url,
        "twilio_account_sid": TEST_ACCOUNT_SID,
        "twilio_auth_token": TEST_AUTH_TOKEN,
        "twilio_api_base_url": twilio_api,
        "sms_gateway": "console",
        "sms_quiet_hours": "03:00-03:01",
        "business_hours": "mon-sun 00:00-24:00",
        "console_stream_seconds": "20",
    }
    env = cli_env(database_url, root / "var", **{**defaults, **settings})
    tokens = set_up(env, ACCOUNTS, PASSWORD, (["kb", "import", "--starter"], None))
    console = Console(url, database_url, backend, env, tokens)
    console.sql("UPDATE staff_users SET extension = '3' WHERE username = 'ana'")
    _BACKEND_AT[url] = backend
    try:
        with serving(env, port, root / "server.log"):
            yield console
    finally:
        del _BACKEND_AT[url]


def sign_in(page: Any, username: str, lands_on: str | None = None) -> None:
    from playwright.sync_api import expect

    page.goto("/console/sign-in")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**" + (lands_on or LANDING[username]))
    expect(page.locator("main")).to_be_visible()


def signed_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Sign in through the API, without the sign-in page (the page's context keeps the
    cookie)."""
    started = page.request.post("/api/session", data={"username": username, "password": password})
    assert started.status == 201, started.text()


def assert_accessible(page: Any, where: str = "") -> list[str]:
    """Run axe-core on the page as it stands; fail on any serious or critical finding.

    Returns the minor and moderate findings (rule ids) for the caller to report; on a
    server that is not in AXE_BACKENDS it checks nothing and returns none."""
    from axe_playwright_python.sync_playwright import Axe

    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    if _BACKEND_AT.get(origin, AXE_BACKENDS[0]) not in AXE_BACKENDS:
        return []
    results = Axe().run(page)
    violations = results.response["violations"]
    grave = [v for v in violations if v.get("impact") in ("serious", "critical")]
    if grave:
        lines = [
            f"{v['impact']} {v['id']}: {v['help']} at "
            + "; ".join(", ".join(node["target"]) for node in v["nodes"][:4])
            for v in grave
        ]
        pytest.fail(f"axe found on {where or page.url}:\n" + "\n".join(lines))
    return [str(v["id"]) for v in violations]


def address_of(page: Any) -> str:
    """The page's address after its origin (path, query and fragment): what a check that
    no personal value reaches the URL reads (the server's port is any number)."""
    parts = urlsplit(page.url)
    return (
        parts.path
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def assert_fits(page: Any) -> None:
    """No sideways scrolling: the page is no wider than the viewport, and no table is
    wider than its card (a table's own scroll bar hides its last columns)."""
    width = page.viewport_size["width"]
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways at {width} px ({scroll} px wide)"
    wide = page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
            .filter((wrap) => wrap.offsetParent && wrap.scrollWidth > wrap.clientWidth + 1)
            .map((wrap) => `${wrap.querySelector('table')?.id || 'a table'}: `
                + `${wrap.scrollWidth} px in ${wrap.clientWidth} px`)"""
    )
    assert wide == [], f"{page.url} at {width} px: tables wider than their card: {wide}"


def assert_both_widths(page: Any, where: str, shot: str | None = None) -> dict[int, list[str]]:
    """axe and the fit (no sideways scrolling, no table wider than its card) at 1280 px,
    then at 768 px (saved as screenshot ``shot`` there when it is given), then back to
    1280 px; the minor and moderate axe findings at each width."""
    found = {1280: assert_accessible(page, f"{where} at 1280 px")}
    assert_fits(page)
    page.set_viewport_size(TABLET)
    found[768] = assert_accessible(page, f"{where} at 768 px")
    assert_fits(page)
    if shot is not None:
        screenshot(page, shot)
    page.set_viewport_size(DESKTOP)
    return found


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
