"""``switchboard simulate``: realistic, correctly signed Twilio voice webhooks at a server.

Each simulated call follows the TwiML the server answers with (the Gather, Dial and
Record action URLs it names), as Twilio would. Call progress callbacks are sent the way
Twilio sends them: as separate requests, some shuffled out of order, some repeated.
The report lists what every call's record should end up as.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx

from services.platform.phones import read_caller_id
from telephony.signature import sign
from telephony.webhooks import SIGNED_FOR_ANOTHER_URL

API_VERSION = "2010-04-01"
CITY_NUMBER = "+12025550100"
WITHHELD_FORMS = ("anonymous", "+266696687", "Restricted", "")
KINDS = (
    ("answered", 0.62),
    ("no-answer", 0.1),
    ("abandoned-in-menu", 0.14),
    ("abandoned-while-ringing", 0.14),
)


class SimulationStopped(Exception):
    """The server cannot take the simulation (not running, or refusing its signatures);
    the message says what to do, in one line."""


def refused_signature_message(url: str, title: str | None) -> str:
    """What to do about a 403 from the server at ``url`` (its problem ``title``)."""
    if title == SIGNED_FOR_ANOTHER_URL:
        return (
            f"the server's PUBLIC_URL is not {url}: start it with "
            f"SWITCHBOARD_PUBLIC_URL={url}, or pass --url with the PUBLIC_URL it has"
        )
    return "the server refused the signature: start it with the same SWITCHBOARD_TWILIO_AUTH_TOKEN"


@dataclass
class ExpectedLeg:
    call_sid: str
    parent_call_sid: str | None
    from_number: str | None
    caller_withheld: bool
    extension: str | None
    status: str
    duration_seconds: int | None


@dataclass
class SimulatedCall:
    kind: str
    call_sid: str
    child_sid: str
    caller: str
    digits: str | None
    spanish: bool
    talk_seconds: int
    shuffle: bool
    duplicate: bool
    legs: list[ExpectedLeg] = field(default_factory=list)


@dataclass
class Summary:
    calls: int = 0
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    failure_examples: list[str] = field(default_factory=list)

    def describe(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.kinds.items()))
        line = (
            f"simulated {self.calls} calls ({kinds}) with {self.requests} signed webhooks "
            f"in {self.seconds:.1f} s ({rate:.0f}/s); {self.failures} failed"
        )
        return line + "".join(f"\n  {example}" for example in self.failure_examples)


def _sid(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("0123456789abcdef") for _ in range(32))


def _caller(rng: random.Random, line_numbers: Collection[str]) -> str:
    if rng.random() < 0.12:
        return rng.choice(WITHHELD_FORMS)
    while True:
        area = rng.choice(("202", "212", "302", "415", "617", "718"))
        number = f"+1{area}555{rng.randint(100, 199):04d}"
        # The city's own line never calls itself: searching it would find every call.
        if number not in line_numbers:
            return number


def plan(
    calls: int, *, seed: int | None, line_numbers: Collection[str] = (CITY_NUMBER,)
) -> list[SimulatedCall]:
    """Decide every call up front, so a seed replays the same calls. No caller has one of
    ``line_numbers`` (the city's own)."""
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    line_numbers = {CITY_NUMBER, *line_numbers}
    planned = []
    for _ in range(calls):
        kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        planned.append(
            SimulatedCall(
                kind=kind,
                call_sid=_sid(rng, "CA"),
                child_sid=_sid(rng, "CA"),
                caller=_caller(rng, line_numbers),
                digits=None if kind == "abandoned-in-menu" else rng.choice("123450"),
                spanish=rng.random() < 0.15,
                talk_seconds=rng.randint(30, 420),
                shuffle=rng.random() < 0.4,
                duplicate=rng.random() < 0.3,
            )
        )
    return planned


def _twiml_attr(body: str, tag: str, attribute: str) -> str | None:
    try:
        root = ET.fromstring(body)  # noqa: S314 - TwiML from the server under test
    except ET.ParseError:  # not TwiML: the failure was counted where the answer came
        return None
    for element in root.iter(tag):
        value = element.get(attribute)
        if value:
            return value
    return None


def _title(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    title = body.get("title") if isinstance(body, dict) else None
    return title if isinstance(title, str) else None


class Player:
    def __init__(self, client: httpx.AsyncClient, base_url: str, auth_token: str, account_sid: str):
        self.client = client
        self.base_url = base_url
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.summary = Summary()

    async def post(self, url: str, params: dict[str, str]) -> str:
        signature = sign(self.auth_token, url, params)
        self.summary.requests += 1
        try:
            response = await self.client.post(
                url, data=params, headers={"X-Twilio-Signature": signature}
            )
        except httpx.HTTPError as exc:
            self._fail(f"{url.removeprefix(self.base_url)}: {type(exc).__name__}")
            return ""
        if response.status_code == 403:
            raise SimulationStopped(refused_signature_message(self.base_url, _title(response)))
        if response.status_code >= 300:
            self._fail(f"{url.removeprefix(self.base_url)}: HTTP {response.status_code}")
            return ""
        return response.text

    def _fail(self, message: str) -> None:
        self.summary.failures += 1
        if len(self.summary.failure_examples) < 5:
            self.summary.failure_examples.append(message)

    def _base(self, call: SimulatedCall, status: str) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.call_sid,
            "CallStatus": status,
            "Direction": "inbound",
            "From": call.caller,
            "Caller": call.caller,
            "To": CITY_NUMBER,
            "Called": CITY_NUMBER,
        }

    async def play(self, call: SimulatedCall, region: str) -> None:
        start = datetime.now(UTC).replace(microsecond=0)
        caller_id = read_caller_id(call.caller, region)
        menu = await self.post(f"{self.base_url}/twilio/voice", self._base(call, "ringing"))
        extension: str | None = None
        action = _twiml_attr(menu, "Gather", "action")
        if call.kind == "abandoned-in-menu" or not action:
            seconds = 9
            # No menu (after business hours): the caller hears the notice and leaves a
            # message where the server offers to record one.
            voicemail = _twiml_attr(menu, "Record", "action") if menu else None
            if call.kind != "abandoned-in-menu" and voicemail:
                seconds += 20
                await self.post(voicemail, {**self._base(call, "in-progress"), "Digits": "#"})
            await self._parent_completed(call, start, seconds)
            call.legs.append(
                self._parent_leg(call, caller_id.e164, caller_id.withheld, None, seconds)
            )
            return
        if call.spanish:
            spanish = await self.post(action, {**self._base(call, "in-progress"), "Digits": "9"})
            action = _twiml_attr(spanish, "Gather", "action") or action
        assert call.digits is not None
        dial = await self.post(action, {**self._base(call, "in-progress"), "Digits": call.digits})
        extension = call.digits
        child_sid = call.child_sid
        child_status, talk = {
            "answered": ("completed", call.talk_seconds),
            "no-answer": ("no-answer", None),
            "abandoned-while-ringing": ("canceled", None),
        }[call.kind]
        callback = _twiml_attr(dial, "Client", "statusCallback") or _twiml_attr(
            dial, "Number", "statusCallback"
        )
        events = self._child_events(call, child_sid, start, child_status, talk)
        if call.shuffle:
            random.Random(call.call_sid).shuffle(events)  # noqa: S311
        if call.duplicate:
            events += events[: max(1, len(events) // 2)]
        for params in events:
            await self.post(callback or f"{self.base_url}/twilio/voice/status", params)
        dial_action = _twiml_attr(dial, "Dial", "action")
        ringing = 7 if call.kind != "abandoned-while-ringing" else 4
        total = 12 + ringing + (talk or 0)
        if call.kind != "abandoned-while-ringing" and dial_action:
            outcome = await self.post(
                dial_action,
                {
                    **self._base(call, "in-progress"),
                    "DialCallSid": child_sid,
                    "DialCallStatus": child_status,
                    "DialCallDuration": str(talk or 0),
                },
            )
            record_action = _twiml_attr(outcome, "Record", "action")
            if record_action:
                total += 20
                await self.post(record_action, {**self._base(call, "in-progress"), "Digits": "#"})
        await self._parent_completed(call, start, total)
        call.legs.append(
            self._parent_leg(call, caller_id.e164, caller_id.withheld, extension, total)
        )
        call.legs.append(
            ExpectedLeg(
                call_sid=child_sid,
                parent_call_sid=call.call_sid,
                from_number=caller_id.e164,
                caller_withheld=caller_id.withheld,
                extension=extension,
                status=child_status,
                duration_seconds=talk if child_status == "completed" else 0,
            )
        )

    def _child_events(
        self, call: SimulatedCall, child_sid: str, start: datetime, final: str, talk: int | None
    ) -> list[dict[str, str]]:
        steps = [("initiated", 12), ("ringing", 13)]
        if final == "completed":
            steps.append(("in-progress", 19))
        steps.append((final, 19 + (talk or 0) if final == "completed" else 20))
        events = []
        for sequence, (status, offset) in enumerate(steps):
            params = {
                **self._base(call, status),
                "CallSid": child_sid,
                "ParentCallSid": call.call_sid,
                "Direction": "outbound-dial",
                "To": "client:agent",
                "Called": "client:agent",
                "SequenceNumber": str(sequence),
                "CallbackSource": "call-progress-events",
                "Timestamp": format_datetime(start + timedelta(seconds=offset)),
            }
            if status in ("completed", "no-answer", "canceled"):
                params["CallDuration"] = str(talk or 0)
            events.append(params)
        return events

    async def _parent_completed(self, call: SimulatedCall, start: datetime, seconds: int) -> None:
        await self.post(
            f"{self.base_url}/twilio/voice/status",
            {
                **self._base(call, "completed"),
                "CallDuration": str(seconds),
                "Timestamp": format_datetime(start + timedelta(seconds=seconds)),
            },
        )

    @staticmethod
    def _parent_leg(
        call: SimulatedCall, e164: str | None, withheld: bool, extension: str | None, seconds: int
    ) -> ExpectedLeg:
        return ExpectedLeg(
            call_sid=call.call_sid,
            parent_call_sid=None,
            from_number=e164,
            caller_withheld=withheld,
            extension=extension,
            status="completed",
            duration_seconds=seconds,
        )


async def _check_server(client: httpx.AsyncClient, url: str) -> None:
    """Stop at once, saying what to do, when no Switchboard answers at ``url``."""
    try:
        response = await client.get(f"{url}/healthz")
    except httpx.HTTPError:
        raise SimulationStopped(
            f"no server answers at {url}: start it first (make run, or switchboard serve), "
            "or pass --url with the address it serves"
        ) from None
    if response.status_code != 200:
        raise SimulationStopped(
            f"{url} answers, but not as Switchboard (GET /healthz gave HTTP "
            f"{response.status_code}): pass --url with the server's PUBLIC_URL"
        )


async def _run(
    *,
    url: str,
    auth_token: str,
    account_sid: str,
    planned: list[SimulatedCall],
    concurrency: int,
    region: str,
    progress: Callable[[int, int], None] | None,
) -> Summary:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await _check_server(client, url)
        player = Player(client, url, auth_token, account_sid)
        gate = asyncio.Semaphore(concurrency)
        done = 0

        async def one(call: SimulatedCall) -> None:
            nonlocal done
            async with gate:
                await player.play(call, region)
            done += 1
            if progress is not None:
                progress(done, len(planned))

        started = time.perf_counter()
        # A task group: the first refusal (SimulationStopped) cancels every other call.
        try:
            async with asyncio.TaskGroup() as group:
                for call in planned:
                    group.create_task(one(call))
        except* SimulationStopped as stopped:
            raise stopped.exceptions[0] from None
        player.summary.seconds = time.perf_counter() - started
    return player.summary


def run_simulation(
    *,
    url: str,
    auth_token: str,
    account_sid: str | None,
    calls: int,
    seed: int | None,
    concurrency: int,
    region: str,
    report_path: str | None,
    line_numbers: Collection[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Play ``calls`` calls at ``url`` (the server's PUBLIC_URL) and summarise; no caller
    uses one of ``line_numbers``; ``progress(done, total)`` after each call.

    Raises ``SimulationStopped`` when no server answers or it refuses the signatures.
    """
    account = account_sid or "AC" + "0" * 32
    planned = plan(calls, seed=seed, line_numbers=line_numbers)
    summary = asyncio.run(
        _run(
            url=url,
            auth_token=auth_token,
            account_sid=account,
            planned=planned,
            concurrency=max(1, concurrency),
            region=region,
            progress=progress,
        )
    )
    summary.calls = len(planned)
    for call in planned:
        summary.kinds[call.kind] = summary.kinds.get(call.kind, 0) + 1
    if report_path:
        report = [asdict(leg) for call in planned for leg in call.legs]
        Path(report_path).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return summary


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn in place; silent elsewhere."""

    WIDTH = 30

    def __init__(self, stream: Any, *, label: str = "calls") -> None:
        self.stream = stream
        self.label = label
        self.shown = False
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = self.WIDTH * done // total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} {self.label}")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        """End the bar's line, so what follows starts on its own."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
