"""A real `switchboard serve` process, set up the way an operator sets one up."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import cli_fork
from tests.conftest import BACKENDS, CHECKOUT, IN_CI, _postgres_or_skip, postgres_schema
from tests.ports import free_port
from tests.support import TEST_AUTH_TOKEN, cli_env, switchboard, switchboard_batch


@dataclass
class Server:
    url: str
    env: dict[str, str]
    token: str
    log: Path

    def api(self) -> httpx.Client:
        """A client of this server's API, signed in with ana's token."""
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"})

    def simulate(
        self, report: Path, *options: str
    ) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        """``switchboard simulate`` against this server with ``options``, its legs written to
        ``report``; the run, which must succeed with no call failed, and those legs."""
        result = switchboard(
            self.env, "simulate", "--url", self.url, *options, "--report", str(report)
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 failed" in result.stdout
        legs: list[dict[str, Any]] = json.loads(report.read_text())
        return result, legs


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra settings for the server under test (override in a module to change them)."""
    return {}


@pytest.fixture
def server(database_url: str, tmp_path: Path, server_env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **cli_env(
            database_url,
            tmp_path / "var",
            public_url=url,
            twilio_auth_token=TEST_AUTH_TOKEN,
            business_hours="mon-sun 00:00-24:00",
        ),
        **server_env,
    }
    token = set_up(env, [("ana", "agent")], "a long enough password")["ana"]
    log = tmp_path / "server.log"
    with serving(env, port, log):
        yield Server(url, env, token, log)


def set_up(
    env: dict[str, str],
    accounts: Sequence[tuple[str, str]],
    password: str,
    *more: tuple[list[str], str | None],
) -> dict[str, str]:
    """What an operator runs before the first start, in one script: the database
    migrated, an account per (name, role) with ``password``, the commands ``more``, then
    a day's API token for each account; the tokens by name."""
    adding: list[tuple[list[str], str | None]] = [
        (["users", "add", name, "--role", role, "--password-stdin"], password + "\n")
        for name, role in accounts
    ]
    issuing: list[tuple[list[str], str | None]] = [
        (["tokens", "issue", name, "--days", "1"], None) for name, _ in accounts
    ]
    ran = switchboard_batch(env, (["db", "upgrade"], None), *adding, *more, *issuing)
    for result in ran:
        assert result.returncode == 0, (result.args, result.stderr)
    tokens = {}
    for (name, _), result in zip(accounts, ran[-len(accounts) :], strict=True):
        tokens[name] = result.stdout.strip()
        assert tokens[name].startswith("sb_") and "\n" not in tokens[name]
    return tokens


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """``switchboard serve`` on ``port`` until the block ends; its output goes to ``log``."""
    url = f"http://127.0.0.1:{port}"
    process: subprocess.Popen[bytes] | cli_fork.ForkedProcess
    if cli_fork.spawning():
        with log.open("w") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "services.app.cli", "serve", "--port", str(port)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
    else:
        process = cli_fork.start(env, ["serve", "--port", str(port)], log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        else:
            pytest.fail("server did not become ready:\n" + log.read_text())
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


# The browser tests' fixtures; their helpers are in tests/e2e/browser.py.


@pytest.fixture(scope="module", params=BACKENDS)
def console_backend(request: pytest.FixtureRequest) -> str:
    """The database under a browser module's server (override to run on one only)."""
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def console_settings() -> dict[str, str]:
    """Extra settings for a browser module's server (override in a module)."""
    return {}


@pytest.fixture(scope="module")
def console(
    console_backend: str,
    console_settings: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    fake_twilio_server: Any,
    request: pytest.FixtureRequest,
    worker_name: str,
) -> Iterator[Any]:
    from tests.e2e.browser import running_console

    root = tmp_path_factory.mktemp("console")
    with ExitStack() as stack:
        if console_backend == "sqlite":
            url = f"sqlite:///{root / 'switchboard.db'}"
        else:
            _postgres_or_skip()
            # A schema of its own for one module's server.
            name = f"{request.module.__name__}-{worker_name}".encode()
            url = stack.enter_context(
                postgres_schema(f"sb_e2e_{CHECKOUT}_{hashlib.sha1(name).hexdigest()[:10]}")
            )
        yield stack.enter_context(
            running_console(root, url, console_backend, fake_twilio_server.url, **console_settings)
        )


@pytest.fixture(scope="module")
def browser(console: Any) -> Iterator[Any]:
    from tests.e2e.browser import CHROMIUM

    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"Chromium is required when CI=true and is missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, console: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context at 1280 px; a screenshot is saved when the test ends, and
    the test fails if the page broke its Content Security Policy."""
    from tests.e2e.browser import DESKTOP, screenshot

    context = browser.new_context(base_url=console.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    screenshot(opened, f"{request.node.name}".replace("/", "_"))
    # A test's route handler still running (an answer it holds back) must end with the
    # test, not fail the next one's set-up when the page under it closes.
    opened.unroute_all(behavior="ignoreErrors")
    context.close()
    blocked = [text for text in errors if "Content Security Policy" in text]
    assert blocked == [], blocked
