"""``switchboard try`` (``make try``): the whole trial in one command.

Starts a throwaway server (its own folder, database, master key and Twilio auth token,
open all day so every simulated caller reaches a department), waits until it answers,
adds a supervisor with a password and an API token, plays simulated calls at it, shows
two searches with their answers and where the console is, and serves until Ctrl-C. Then
it stops the server and removes the folder: nothing is left running or on disk.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from services.app.factory import build_context
from services.platform import audit
from services.platform.roles import Role
from services.platform.settings import Settings
from services.staff import actions as staff_actions
from services.staff.schemas import NewStaff
from telephony.simulate import CITY_NUMBER, ProgressBar, SimulationStopped, run_simulation

USERNAME = "trial"
START_SECONDS = 90


class TrialFailed(Exception):
    """The trial cannot go on; the message says why in one line."""


@dataclass(frozen=True)
class Trial:
    url: str
    folder: Path
    env: dict[str, str]


def _trial_env(folder: Path, url: str, auth_token: str) -> dict[str, str]:
    """This process's environment without any SWITCHBOARD_ setting of the operator's (a
    trial must not reach a real database or Twilio), plus the throwaway ones."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SWITCHBOARD_")}
    env.update(
        {
            "SWITCHBOARD_DATA_DIR": str(folder),
            "SWITCHBOARD_DATABASE_URL": f"sqlite:///{folder / 'switchboard.db'}",
            "SWITCHBOARD_BLOB_URL": f"file://{folder / 'blobs'}",
            "SWITCHBOARD_PUBLIC_URL": url,
            "SWITCHBOARD_TWILIO_AUTH_TOKEN": auth_token,
            "SWITCHBOARD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "SWITCHBOARD_BUSINESS_HOURS": "mon-sun 00:00-24:00",
            "SWITCHBOARD_SMS_GATEWAY": "console",
            "SWITCHBOARD_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _settings(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {
        name.removeprefix("SWITCHBOARD_").lower(): value
        for name, value in env.items()
        if name.startswith("SWITCHBOARD_")
    }
    return Settings(_env_file=None, **values)


def _stop_signal(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _stoppable() -> Iterator[None]:
    """Ctrl-C (even where a shell started it with SIGINT ignored), SIGTERM and SIGHUP end
    the trial through its clean-up."""
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, _stop_signal) for s in stops}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now (a server still starting refuses or times out)."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines()
            errors = [line for line in lines if line.startswith("error: ")]
            raise TrialFailed(
                (errors or lines or ["the server stopped at once"])[-1].removeprefix("error: ")
            )
        if answers(f"{url}/healthz"):
            return
        time.sleep(0.3)
    raise TrialFailed(f"the server did not answer at {url}/healthz within {START_SECONDS} s")


def _national(e164: str) -> str:
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def _dotted(e164: str) -> str:
    return f"{e164[2:5]}.{e164[5:8]}.{e164[8:]}"


def _examples(report: list[dict[str, Any]]) -> list[str]:
    """The two callers with the most call legs, each written the way a caller gives it."""
    callers = Counter(leg["from_number"] for leg in report if leg["from_number"])
    chosen = [number for number, _ in callers.most_common(2)]
    return [writer(number) for writer, number in zip((_national, _dotted), chosen, strict=False)]


def _describe(call: dict[str, Any]) -> str:
    seconds = call.get("duration_seconds") or 0
    started = call.get("started_at")
    when = datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M:%S") if started else ""
    leg = "the agent's leg" if call.get("parent_call_sid") else "the caller's call"
    return (
        f"    {call['call_sid']}  {when}  {call['status']:<10} "
        f"extension {call.get('extension') or '-'}  {seconds // 60} min {seconds % 60:02d} s"
        f"  ({leg})"
    )


def _show_search(
    api: httpx.Client, url: str, token: str, phone: str, say: Callable[..., None]
) -> None:
    body = json.dumps({"phone": phone})
    say(f"\n  Calls from {phone}:")
    say(
        f"  curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n"
        f"       -d '{body}' {url}/api/calls/search"
    )
    response = api.post("/api/calls/search", json={"phone": phone})
    if response.status_code != 200:
        raise TrialFailed(f"the search answered HTTP {response.status_code}")
    items = response.json()["items"]
    say(f"  → {len(items)} call leg{'' if len(items) == 1 else 's'}, newest first:")
    for call in items[:6]:
        say(_describe(call))
    if len(items) > 6:
        say(f"    … and {len(items) - 6} more")


def _account(settings: Settings) -> tuple[str, str]:
    """A supervisor (calls, recordings, the dashboard) with a password and an API token."""
    password = "try-" + secrets.token_urlsafe(12)
    context = build_context(settings)
    try:
        new = NewStaff(username=USERNAME, role=Role.SUPERVISOR, password=password)
        # The operator on the server: direct, as `switchboard users add` is.
        staff_actions.create_staff(context, audit.SYSTEM, new, via="cli", direct=True)
        issued = staff_actions.issue_token(
            context, audit.SYSTEM, username=USERNAME, days=1, via="cli"
        )
    finally:
        context.engine.dispose()
    return password, issued.token


def _play(
    trial: Trial, settings: Settings, calls: int, say: Callable[..., None]
) -> list[dict[str, Any]]:
    say(f"Simulating {calls} calls, signed as Twilio signs them …")
    progress = ProgressBar(sys.stderr)
    report = trial.folder / "simulated.json"
    try:
        summary = run_simulation(
            url=trial.url,
            auth_token=trial.env["SWITCHBOARD_TWILIO_AUTH_TOKEN"],
            account_sid=None,
            calls=calls,
            seed=311,
            concurrency=8,
            region=settings.default_region,
            report_path=str(report),
            line_numbers=[CITY_NUMBER],
            progress=progress,
        )
    except SimulationStopped as stopped:
        raise TrialFailed(str(stopped)) from None
    finally:
        progress.finish()
    say(summary.describe())
    legs: list[dict[str, Any]] = json.loads(report.read_text())
    return legs


def run_trial(*, port: int, calls: int, say: Callable[..., None] = print) -> int:
    """The trial from start to Ctrl-C; 0 when stopped by the user, 1 when it failed."""
    # One line per request would bury what the trial shows.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="switchboard-try-"))
    url = f"http://127.0.0.1:{port}"
    trial = Trial(url, folder, _trial_env(folder, url, secrets.token_urlsafe(24)))
    process: subprocess.Popen[bytes] | None = None
    stopped_by_user = False
    try:
        with _stoppable():
            say(f"Starting a throwaway server at {url} (its data in {folder}) …")
            log = folder / "server.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                    [sys.executable, "-m", "services.app.cli", "serve", "--port", str(port)],
                    env=trial.env,
                    cwd=folder,  # no .env file of the operator's is read
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            _wait_until_up(process, url, log)
            settings = _settings(trial.env)
            password, token = _account(settings)
            legs = _play(trial, settings, calls, say)
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api:
                say("\nTwo searches, as a call taker or supervisor would make them:")
                for phone in _examples(legs):
                    _show_search(api, url, token, phone, say)
            say(f"\nThe console: {url}/console/  (sign in as {USERNAME}, password {password})")
            say("The server keeps running until you press Ctrl-C; then it stops and its data goes.")
            while process.poll() is None:
                time.sleep(0.5)
            raise TrialFailed(f"the server stopped by itself; its log was {log}")
    except KeyboardInterrupt:
        stopped_by_user = True
        say("\nStopping …")
        return 0
    except TrialFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    finally:
        with _ignoring_stops():
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            shutil.rmtree(folder, ignore_errors=True)
            if stopped_by_user:
                say("Stopped; nothing is left running or on disk.")


@contextmanager
def _ignoring_stops() -> Iterator[None]:
    """A second Ctrl-C must not cut the clean-up short."""
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in stops}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
