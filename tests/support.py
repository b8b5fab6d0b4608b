"""Helpers the tests share: the settings of the app under test, building and serving it,
a Twilio that signs its webhooks, and staff accounts."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.app.factory import bootstrap, build_context, create_app
from services.knowledge import service as knowledge
from services.platform.clock import Clock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.roles import Role
from services.platform.settings import Settings
from services.recordings.models import Recording
from services.staff import service as staff_service
from telephony.signature import sign
from tests import cli_fork

TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_ACCOUNT_SID = "AC" + "1" * 32
PUBLIC_URL = "https://311.example.gov"
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
# A caller who gives every contact detail, typed the way callers type them.
JOSE = {
    "name": "José Álvarez",
    "phone": "(302) 555-0133",
    "email": "Jose.Alvarez@Example.org",
    "address": "12 North Oak Street, Apt. 3",
}
# The city's time zone: the settings' default, which the apps and servers under test keep.
CITY = ZoneInfo("America/New_York")
# A Wednesday, 10:00 in New York: inside the default business hours.
OPEN_HOURS = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "public_url": PUBLIC_URL,
        "twilio_account_sid": TEST_ACCOUNT_SID,
        "twilio_auth_token": TEST_AUTH_TOKEN,
        "master_key": MASTER_KEY,
        "blob_url": f"file://{data_dir / 'blobs'}",
        # Tests never reach the real Twilio: texts go to the outbox unless a test says so.
        "sms_gateway": "console",
        # Tests run background jobs themselves, one step at a time, unless they want the
        # worker (those say embedded_worker=True); and no test waits on the sender's limit.
        "embedded_worker": False,
        "sms_rate_per_second": 1000,
        "email_rate_per_second": 1000,
        "twilio_from_number": "+13025550100",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def cli_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment an operator gives the ``switchboard`` command: this process's, the
    database, the data folder, the master key, and ``settings`` by name (``public_url``
    is SWITCHBOARD_PUBLIC_URL)."""
    return {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_DATA_DIR": str(data_dir),
        "SWITCHBOARD_MASTER_KEY": MASTER_KEY,
        # The default (./var/blobs) is the working folder's: every test would share it,
        # and one test's signed audit checkpoints would read as another's forgeries.
        "SWITCHBOARD_BLOB_URL": f"file://{data_dir / 'blobs'}",
        **{f"SWITCHBOARD_{name.upper()}": value for name, value in settings.items()},
    }


def switchboard(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``switchboard`` command run in ``env`` as an operator runs it (in a process of
    its own, forked after the imports: tests/cli_fork.py)."""
    if not cli_fork.spawning():
        return cli_fork.run(env, list(args), stdin, timeout=300)
    return _interpreter(env, ["-m", "services.app.cli", *args], stdin)


def _interpreter(
    env: dict[str, str], args: list[str], stdin: str | None
) -> subprocess.CompletedProcess[str]:
    """A new Python interpreter run with ``args`` in ``env`` (SWITCHBOARD_TEST_CLI=spawn),
    fed ``stdin``, its output kept."""
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# Runs several `switchboard` commands in one process (the start-up cost is paid once):
# reads [[args, stdin], ...] as JSON and writes [[exit code, stdout, stderr], ...].
_BATCH = """
import contextlib, io, json, sys
from services.app.cli import main
done = []
for args, text in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), io.StringIO()
    sys.stdin = io.StringIO(text or "")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    done.append([code, out.getvalue(), err.getvalue()])
sys.__stdout__.write(json.dumps(done))
"""


def switchboard_batch(
    env: dict[str, str], *commands: tuple[list[str], str | None]
) -> list[subprocess.CompletedProcess[str]]:
    """Several ``switchboard`` commands, each with its own stdin, run one after another in
    one process as an operator's script would run them; each result as from ``switchboard``."""
    script = json.dumps([[list(args), text] for args, text in commands])
    if cli_fork.spawning():
        ran = _interpreter(env, ["-c", _BATCH], script)
    else:
        ran = cli_fork.run(env, [], script, timeout=300, code=_BATCH)
    assert ran.returncode == 0, ran.stderr
    return [
        subprocess.CompletedProcess(args, code, out, err)
        for (args, _), (code, out, err) in zip(commands, json.loads(ran.stdout), strict=True)
    ]


@contextmanager
def running(settings: Settings, clock: Clock | None = None) -> Iterator[AppContext]:
    """The app's context built from ``settings`` and bootstrapped; its engine is disposed
    when the block ends."""
    context = build_context(settings, clock=clock)
    bootstrap(context)
    try:
        yield context
    finally:
        context.engine.dispose()


@contextmanager
def served(context: AppContext, base_url: str = PUBLIC_URL) -> Iterator[TestClient]:
    """A test client of the app over ``context``, its start-up and shutdown run."""
    with TestClient(create_app(context), base_url=base_url) as client:
        yield client


def wait_until(what: str, condition: Callable[[], object], seconds: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``seconds`` (a
    generous default: the machine under test is shared)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


class Meanwhile:
    """A request sent from another thread while the test holds something open (a row
    lock, an advisory lock, a transaction): ``waited`` says whether it was still waiting
    a second after it began; ``answer()`` is its status once the test has let go."""

    def __init__(self, send: Callable[[], httpx.Response]) -> None:
        self._answers: list[int] = []
        self._thread = threading.Thread(target=lambda: self._answers.append(send().status_code))
        self._thread.start()
        self._thread.join(timeout=1.0)
        self.waited = self._thread.is_alive()

    def answer(self) -> int:
        self._thread.join(timeout=10)
        assert self._answers, "the request sent meanwhile never answered"
        return self._answers[0]


def call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def rfc2822(instant: datetime) -> str:
    return format_datetime(instant)


# When Twilio says a test's call recordings started: 10:00:05 in New York on OPEN_HOURS' day.
RECORDING_START = "Wed, 18 Nov 2026 15:00:05 +0000"


def recording_params(
    call_sid: str,
    recording_sid: str,
    *,
    status: str = "completed",
    seconds: int = 12,
    start: str | None = RECORDING_START,
    **extra: str,
) -> dict[str, str]:
    """The parameters of Twilio's status callback for a call's two-channel recording
    (POSTed to /twilio/recordings); ``start`` None leaves its start time out."""
    params = {
        "AccountSid": TEST_ACCOUNT_SID,
        "CallSid": call_sid,
        "RecordingSid": recording_sid,
        "RecordingStatus": status,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/"
        f"{TEST_ACCOUNT_SID}/Recordings/{recording_sid}",
        "RecordingDuration": str(seconds),
        "RecordingChannels": "2",
        "RecordingSource": "DialVerb",
    }
    if start is not None:
        params["RecordingStartTime"] = start
    return params | extra


@dataclass
class TwilioClient:
    """Posts webhooks to ``client`` signed the way Twilio signs them (by default as the
    test account, for the test app's public URL)."""

    client: TestClient
    public_url: str = PUBLIC_URL
    auth_token: str = TEST_AUTH_TOKEN
    account_sid: str = TEST_ACCOUNT_SID

    def post(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        signature: str | None = None,
        unsigned: bool = False,
    ) -> httpx.Response:
        """POST ``params`` to ``path`` (which may carry a query) with Twilio's signature."""
        url = self.public_url + path
        headers = {}
        if not unsigned:
            headers["X-Twilio-Signature"] = signature or sign(self.auth_token, url, dict(params))
        return self.client.post(path, data=dict(params), headers=headers)

    def ring(self, sid: str | None = None, **extra: str) -> str:
        """A call coming in, Twilio's first webhook for it; its CallSid (a new one unless
        ``sid`` is given)."""
        sid = sid or call_sid()
        response = self.post("/twilio/voice", self.call_params(sid, "ringing", **extra))
        assert response.status_code == 200, response.text
        return sid

    def press(
        self, sid: str, digits: str | None = None, *, attempt: int = 1, **extra: str
    ) -> httpx.Response:
        """The caller's answer to the English menu: ``digits`` pressed, or (None) nothing."""
        if digits is not None:
            extra["Digits"] = digits
        return self.post(
            f"/twilio/voice/gather?lang=en&attempt={attempt}",
            self.call_params(sid, "in-progress", **extra),
        )

    def text(
        self, sender: str, body: str, *, to: str = "+13025550100", sid: str | None = None
    ) -> httpx.Response:
        """A text from ``sender`` to the city's number as Twilio posts it (a new
        MessageSid unless ``sid`` is given)."""
        return self.post(
            "/twilio/sms",
            {
                "AccountSid": self.account_sid,
                "MessageSid": sid or "SM" + call_sid()[2:],
                "From": sender,
                "To": to,
                "Body": body,
            },
        )

    def leg_params(
        self, parent: str, leg: str, status: str, *, to: str, sequence: int, **extra: str
    ) -> dict[str, str]:
        """The status callback of ``leg``, a leg dialled from call ``parent`` to ``to``."""
        return self.call_params(
            leg,
            status,
            ParentCallSid=parent,
            Direction="outbound-dial",
            To=to,
            SequenceNumber=str(sequence),
            **extra,
        )

    def leg(
        self, parent: str, leg: str, status: str, *, to: str, sequence: int, **extra: str
    ) -> None:
        """Post a dialled leg's status callback (``leg_params``); Twilio is answered 204."""
        response = self.post(
            "/twilio/voice/status",
            self.leg_params(parent, leg, status, to=to, sequence=sequence, **extra),
        )
        assert response.status_code == 204, response.text

    def call_params(self, sid: str, status: str, **extra: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": status,
            "Direction": "inbound",
            "From": "+12025550142",
            "To": "+12025550100",
        }
        params.update(extra)
        return params


@dataclass
class StaffFactory:
    context: AppContext
    made: dict[str, str] = field(default_factory=dict)

    def token(self, role: Role | str, username: str | None = None) -> str:
        role = Role(role)
        name = username or f"{role.value.replace('_', '-')}-{len(self.made) + 1}"
        now = self.context.clock.now()
        with self.context.db.begin() as session:
            staff_service.create_user(
                session,
                username=name,
                role=role,
                password=None,
                now=now,  # tokens only: fast
            )
            token, _ = staff_service.issue_token(session, username=name, days=30, now=now)
        self.made[name] = token
        return token

    def headers(self, role: Role | str, username: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, username)}"}


# Routes that need no staff credentials, and why. Anything else must use require().
PUBLIC_ROUTES = {
    "/": "sends people to the console",
    "/healthz": "liveness probe, no data",
    "/readyz": "readiness probe, no data",
    "/metrics": "Prometheus metrics: route templates and counts, no personal data",
    "/openapi.json": "the API's own description",
    "/api/session": "signing in and out",
    "/api/session/totp": "second-factor enrolment of the signed-in session",
    "/api/session/totp/confirm": "second-factor enrolment of the signed-in session",
    "/console": "sends the signed-in person to their first page, or to the sign-in page",
    "/console/": "sends the signed-in person to their first page, or to the sign-in page",
    "/console/sign-in": "the sign-in form; it shows no data",
    "/console/sign-out": "ends the session at hand; the form must carry its CSRF token",
}
PUBLIC_PREFIXES = {
    "/twilio/": "Twilio webhooks, checked by signature (telephony.webhooks.TwilioRoute)",
    "/open311/": "Open311 GeoReport: public data, API keys for submissions",
    "/static/": "the console's own scripts and styles",
    "/public/": "the public's own pages: alert sign-up and confirmation, one-click unsubscribe",
}


@dataclass(frozen=True)
class ApiRoute:
    path: str
    methods: frozenset[str]
    route: Any  # the APIRoute as declared on its router

    @property
    def permission(self) -> Any:
        return route_permission(self.route)


def api_routes(app: Any) -> list[ApiRoute]:
    """Every API route of the app with its full path, through included routers."""
    from fastapi.routing import APIRoute, iter_route_contexts

    found = []
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        if isinstance(original, APIRoute) and context.path is not None:
            found.append(ApiRoute(context.path, frozenset(context.methods or ()), original))
    return found


def route_permission(route: Any) -> Any:
    """The Permission a route's require() dependency demands, or None."""
    from services.platform.auth import required_permission

    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        found = required_permission(dependant.call)
        if found is not None:
            return found
        stack.extend(dependant.dependencies)
    return None


def is_public(path: str) -> bool:
    return path in PUBLIC_ROUTES or path.startswith(tuple(PUBLIC_PREFIXES))


def echoed(response: httpx.Response) -> str:
    """The body of an error answer without its random request id, to check that what a
    caller sent is not echoed (a hex request id may contain any run of digits)."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, dict):
        body.pop("request_id", None)
    return json.dumps(body, ensure_ascii=False)


def filed_request(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """A service request filed through the staff API with ``body``; its JSON."""
    response = client.post("/api/requests", json=body, headers=headers)
    assert response.status_code == 201, response.text
    filed: dict[str, Any] = response.json()
    return filed


def stored_recording(
    context: AppContext, call_sid: str, recording_sid: str | None = None, **columns: Any
) -> str:
    """A call's two-channel recording, as Twilio completed it, written straight to the
    database (``columns`` add to it or change it; processed unless ``state`` says not);
    its RecordingSid, a new one unless ``recording_sid`` is given."""
    now = context.clock.now()
    sid = recording_sid or "RE" + secrets.token_hex(16)
    stored = {"kind": "call", "twilio_status": "completed", "channels": 2, "state": "done"}
    with context.db.begin() as session:
        session.add(
            Recording(
                recording_sid=sid,
                call_sid=call_sid,
                started_at=now,
                created_at=now,
                updated_at=now,
                **(stored | columns),
            )
        )
    return sid


# The password of the staff accounts tests make with one (``add_user``).
PASSWORD = "correct horse battery staple"


def add_user(context: AppContext, name: str, role: Role = Role.AGENT) -> int:
    """A staff account that signs in with ``PASSWORD`` (``StaffFactory`` makes accounts
    with API tokens only); its id."""
    with context.db.begin() as session:
        user = staff_service.create_user(
            session, username=name, role=role, password=PASSWORD, now=context.clock.now()
        )
        return user.id


def staff_account(client: TestClient, admin: dict[str, str], name: str) -> dict[str, Any]:
    """The account ``name`` as the staff list shows it to ``admin``."""
    items = client.get("/api/staff", headers=admin).json()["items"]
    found: dict[str, Any] = next(item for item in items if item["username"] == name)
    return found


def audit_entries(context: AppContext, *where: Any) -> list[AuditEntry]:
    """The audit entries that match ``where``, oldest first."""
    with context.db() as session:
        return list(session.scalars(sa.select(AuditEntry).where(*where).order_by(AuditEntry.seq)))


def audit_entry(context: AppContext, *where: Any) -> AuditEntry:
    """The one audit entry that matches ``where``; fails unless there is exactly one."""
    entries = audit_entries(context, *where)
    assert len(entries) == 1, [(entry.action, entry.outcome) for entry in entries]
    return entries[0]


def knowledge_topics(context: AppContext, *codes: str) -> None:
    """Knowledge-base articles in service for ``codes``: a wrap-up's topics are their codes."""
    with context.db.begin() as session:
        for code in codes:
            knowledge.save(
                session,
                knowledge.ArticleChange(
                    code=code,
                    department="Public Works",
                    service_code=None,
                    translations=(
                        knowledge.Translation("en", code.replace("-", " ").title(), "Answer."),
                    ),
                ),
                by=None,
                via="import",
                now=context.clock.now(),
            )


def confirmed_subscriber(context: AppContext, address: str, language: str = "en") -> None:
    """A news-alert subscriber who signed up and confirmed (without the public endpoint's
    limit)."""
    from services.alerts import service as alerts

    policy = context.part(alerts.AlertPolicy)
    with context.db.begin() as session:
        pending = alerts.sign_up(
            session,
            context.keyring,
            address,
            language=language,
            now=context.clock.now(),
            policy=policy,
        )
        assert pending is not None
        assert alerts.confirm(session, context.keyring, pending.token, now=context.clock.now())


def privacy_request(client: TestClient, officer: dict[str, str], **fields: Any) -> httpx.Response:
    """Record, as ``officer``, a privacy request received by mail on OPEN_HOURS' day with the
    requester's identity checked: an access request unless ``fields`` say otherwise
    (they change any part of it and must name the ``requester``). The answer, unchecked."""
    body = {
        "received_on": "2026-11-18",
        "channel": "mail",
        "kinds": ["access"],
        "identity_evidence": "Signature compared with the one on file",
        **fields,
    }
    return client.post("/api/privacy/requests", json=body, headers=officer)


def access_export(
    client: TestClient,
    officer: dict[str, str],
    requester: dict[str, str],
    *,
    export_headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    """Record an access request from ``requester`` (``fields`` change how it came in) and
    fetch its export (as ``export_headers``, the officer by default); fails unless both
    succeed."""
    recorded = privacy_request(client, officer, requester=requester, **fields)
    assert recorded.status_code == 201, recorded.text
    exported = client.get(
        f"/api/privacy/requests/{recorded.json()['id']}/export",
        headers=export_headers or officer,
    )
    assert exported.status_code == 200, exported.text
    return exported
