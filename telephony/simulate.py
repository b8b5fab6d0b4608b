"""``switchboard simulate``: realistic, correctly signed Twilio webhooks at a server.

Each simulated call follows the TwiML the server answers with (the Gather, Dial and
Record action URLs it names), as Twilio would: the leg it dials rings whatever the Dial
names (an agent's Client, Number or Sip, or the department's), and when that leg is not
answered the next Dial the server answers with is followed, until an agent answers or
the call reaches voicemail. Some callers hang up while it rings (in the queue); some
calls are answered and then transferred to another department. Call progress callbacks
are sent the way Twilio sends them: as separate requests, some shuffled out of order,
some repeated. Some callers text the city instead: a conversation of a few texts.
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

from services.platform.phones import CallerId, read_caller_id
from telephony.signature import sign
from telephony.webhooks import SIGNED_FOR_ANOTHER_URL

API_VERSION = "2010-04-01"
CITY_NUMBER = "+12025550100"
WITHHELD_FORMS = ("anonymous", "+266696687", "Restricted", "")
KINDS = (
    ("answered", 0.5),
    ("answered-by-the-next", 0.08),
    ("transferred", 0.06),
    ("no-answer", 0.08),
    ("abandoned-in-menu", 0.14),
    ("abandoned-while-ringing", 0.14),
)
# Where a transferred call goes: the operator's group (menu key 0 by default).
TRANSFER_DESTINATION = "client:operator"
MAX_OFFERS = 6


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
    # Where the leg rang (an agent's destination, a department's), for dialled legs.
    to: str | None = None
    answered_seconds: int | None = None  # after the call started, when answered


@dataclass(frozen=True)
class LegPlan:
    """One dialled leg: where it rings, from how long after the call began, how it ends."""

    call_sid: str
    to: str
    offset: int
    final: str
    talk: int | None


@dataclass
class SimulatedConversation:
    sender: str
    texts: int


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
    conversations: int = 0
    requests: int = 0
    failures: int = 0
    # Requests sent again after a 5xx or a broken connection, as Twilio does.
    retries: int = 0
    seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    failure_examples: list[str] = field(default_factory=list)

    def describe(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.kinds.items()))
        line = (
            f"simulated {self.calls} calls ({kinds}) and {self.conversations} text "
            f"conversations with {self.requests} signed webhooks "
            f"in {self.seconds:.1f} s ({rate:.0f}/s); {self.failures} failed"
            + (f" ({self.retries} retried)" if self.retries else "")
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


def plan_conversations(count: int, *, seed: int | None) -> list[SimulatedConversation]:
    """Decide every text conversation up front (a seed replays them)."""
    rng = random.Random(None if seed is None else seed + 1)  # noqa: S311
    return [
        SimulatedConversation(
            sender=f"+1302555{rng.randint(200, 299):04d}", texts=rng.randint(1, 3)
        )
        for _ in range(count)
    ]


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


SMS_BODIES = (
    "Is the bulk pickup still on for Thursday?",
    "The streetlight on our block is out again",
    "Thanks, the crew came today",
    "What time does the transfer station close?",
)


def _outcome(call: SimulatedCall, offer: int) -> tuple[str, int | None]:
    """How the ``offer``-th dialled leg of the call ends, and its talk time."""
    if call.kind == "abandoned-while-ringing":
        return "canceled", None  # the caller hangs up in the queue
    if call.kind in ("answered", "transferred") or (
        call.kind == "answered-by-the-next" and offer > 0
    ):
        return "completed", call.talk_seconds
    return "no-answer", None


def _dialled(body: str) -> tuple[str, str | None] | None:
    """Where a Dial rings, as a leg's To ("client:NAME", a number or a sip: URI), and
    the leg's status callback; None when the TwiML holds no Dial."""
    if not body:
        return None
    root = ET.fromstring(body)  # noqa: S314 - TwiML from the server under test
    for dial in root.iter("Dial"):
        for noun in dial:
            text = (noun.text or "").strip()
            to = f"client:{text}" if noun.tag == "Client" else text
            return to, noun.get("statusCallback")
    return None


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
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        auth_token: str,
        account_sid: str,
        *,
        retries: int = 0,
    ):
        self.client = client
        self.base_url = base_url
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.retries = retries
        self.summary = Summary()

    async def post(self, url: str, params: dict[str, str]) -> str:
        """Post one signed webhook; like Twilio, send it again after a 5xx or a broken
        connection, up to ``retries`` times (the server must count it once)."""
        signature = sign(self.auth_token, url, params)
        self.summary.requests += 1
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.summary.retries += 1
                await asyncio.sleep(min(5.0, 0.25 * 2**attempt))
            try:
                response = await self.client.post(
                    url, data=params, headers={"X-Twilio-Signature": signature}
                )
            except httpx.HTTPError as exc:
                problem = f"{url.removeprefix(self.base_url)}: {type(exc).__name__}"
                continue
            if response.status_code == 403:
                raise SimulationStopped(refused_signature_message(self.base_url, _title(response)))
            if response.status_code >= 500:
                problem = f"{url.removeprefix(self.base_url)}: HTTP {response.status_code}"
                continue
            if response.status_code >= 300:
                self._fail(f"{url.removeprefix(self.base_url)}: HTTP {response.status_code}")
                return ""
            return response.text
        self._fail(problem)
        return ""

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
        action = _twiml_attr(menu, "Gather", "action") if menu else None
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
        dial = await self._choose(call, menu)
        assert call.digits is not None
        extension = call.digits
        elapsed = 12  # greeting and menu
        leg_rng = random.Random(call.call_sid)  # noqa: S311 - simulation
        for offer in range(MAX_OFFERS):
            target = _dialled(dial)
            if target is None:
                break
            to, callback = target
            child_sid = call.child_sid if offer == 0 else _sid(leg_rng, "CA")
            child_status, talk = _outcome(call, offer)
            leg = LegPlan(child_sid, to, elapsed, child_status, talk)
            await self._leg(call, leg, start, callback)
            call.legs.append(self._expected(call, caller_id, extension, leg))
            ringing = 7 if child_status != "canceled" else 4
            elapsed += ringing + (talk or 0)
            if child_status == "canceled":
                break  # the caller hung up while it rang: Twilio asks nothing more
            if call.kind == "transferred":
                more = leg_rng.randint(30, 180)
                transfer = LegPlan(
                    _sid(leg_rng, "CA"), TRANSFER_DESTINATION, elapsed, "completed", more
                )
                await self._leg(call, transfer, start, callback)
                call.legs.append(self._expected(call, caller_id, extension, transfer))
                elapsed += 7 + more
            dial_action = _twiml_attr(dial, "Dial", "action")
            if not dial_action:
                break
            dial = await self.post(
                dial_action,
                {
                    **self._base(call, "in-progress"),
                    "DialCallSid": child_sid,
                    "DialCallStatus": child_status,
                    "DialCallDuration": str(talk or 0),
                },
            )
            if child_status == "completed":
                break
        record_action = _twiml_attr(dial, "Record", "action") if dial else None
        if record_action:
            elapsed += 20
            await self.post(record_action, {**self._base(call, "in-progress"), "Digits": "#"})
        await self._parent_completed(call, start, elapsed)
        call.legs.insert(
            0, self._parent_leg(call, caller_id.e164, caller_id.withheld, extension, elapsed)
        )

    async def _choose(self, call: SimulatedCall, menu: str) -> str:
        """Press the call's keys (Spanish first, when it asks) and return the TwiML."""
        action = _twiml_attr(menu, "Gather", "action")
        if action and call.spanish:
            spanish = await self.post(action, {**self._base(call, "in-progress"), "Digits": "9"})
            action = _twiml_attr(spanish, "Gather", "action") or action
        return await self.post(
            action or "", {**self._base(call, "in-progress"), "Digits": call.digits or ""}
        )

    async def _leg(
        self, call: SimulatedCall, leg: LegPlan, start: datetime, callback: str | None
    ) -> None:
        """The progress callbacks of one dialled leg, as Twilio sends them."""
        events = self._child_events(call, leg, start)
        if call.shuffle:
            random.Random(leg.call_sid).shuffle(events)  # noqa: S311
        if call.duplicate:
            events += events[: max(1, len(events) // 2)]
        for params in events:
            await self.post(callback or f"{self.base_url}/twilio/voice/status", params)

    @staticmethod
    def _expected(
        call: SimulatedCall, caller_id: CallerId, extension: str, leg: LegPlan
    ) -> ExpectedLeg:
        answered = leg.final == "completed"
        return ExpectedLeg(
            call_sid=leg.call_sid,
            parent_call_sid=call.call_sid,
            from_number=caller_id.e164,
            caller_withheld=caller_id.withheld,
            extension=extension,
            status=leg.final,
            duration_seconds=leg.talk if answered else 0,
            to=leg.to,
            answered_seconds=leg.offset + 7 if answered else None,
        )

    async def converse(self, conversation: SimulatedConversation, index: int) -> None:
        """A caller texting the city: a few messages, one conversation."""
        rng = random.Random(f"{conversation.sender}{index}")  # noqa: S311
        for _ in range(conversation.texts):
            await self.post(
                f"{self.base_url}/twilio/sms",
                {
                    "AccountSid": self.account_sid,
                    "ApiVersion": API_VERSION,
                    "MessageSid": _sid(rng, "SM"),
                    "SmsSid": "",
                    "From": conversation.sender,
                    "To": CITY_NUMBER,
                    "Body": rng.choice(SMS_BODIES),
                    "NumMedia": "0",
                },
            )

    def _child_events(
        self, call: SimulatedCall, leg: LegPlan, start: datetime
    ) -> list[dict[str, str]]:
        offset, talk = leg.offset, leg.talk
        steps = [("initiated", offset), ("ringing", offset + 1)]
        if leg.final == "completed":
            steps.append(("in-progress", offset + 7))
        steps.append(
            (leg.final, offset + 7 + (talk or 0) if leg.final == "completed" else offset + 8)
        )
        events = []
        for sequence, (status, at) in enumerate(steps):
            params = {
                **self._base(call, status),
                "CallSid": leg.call_sid,
                "ParentCallSid": call.call_sid,
                "Direction": "outbound-dial",
                "To": leg.to,
                "Called": leg.to,
                "SequenceNumber": str(sequence),
                "CallbackSource": "call-progress-events",
                "Timestamp": format_datetime(start + timedelta(seconds=at)),
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


async def _check_server(client: httpx.AsyncClient, url: str, retries: int = 0) -> None:
    """Stop at once, saying what to do, when no Switchboard answers at ``url``. With
    ``retries``, a server that is down or a proxy answering 5xx for it (restarting, as a
    fault drill does) is asked again, as Twilio retries, before giving up."""
    response: httpx.Response | None = None
    for attempt in range(retries + 1):
        if attempt:
            await asyncio.sleep(min(5.0, 0.25 * 2**attempt))
        try:
            response = await client.get(f"{url}/healthz")
        except httpx.HTTPError:
            response = None
            continue
        if response.status_code < 500:
            break
    if response is None:
        raise SimulationStopped(
            f"no server answers at {url}: start it first (make run, or switchboard serve), "
            "or pass --url with the address it serves"
        )
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
    conversations: list[SimulatedConversation],
    concurrency: int,
    region: str,
    progress: Callable[[int, int], None] | None,
    retries: int = 0,
) -> Summary:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await _check_server(client, url, retries)
        player = Player(client, url, auth_token, account_sid, retries=retries)
        gate = asyncio.Semaphore(concurrency)
        done = 0

        async def one(call: SimulatedCall) -> None:
            nonlocal done
            async with gate:
                await player.play(call, region)
            done += 1
            if progress is not None:
                progress(done, len(planned))

        async def texts(index: int, conversation: SimulatedConversation) -> None:
            async with gate:
                await player.converse(conversation, index)

        started = time.perf_counter()
        # A task group: the first refusal (SimulationStopped) cancels every other call.
        try:
            async with asyncio.TaskGroup() as group:
                for call in planned:
                    group.create_task(one(call))
                for index, talk in enumerate(conversations):
                    group.create_task(texts(index, talk))
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
    texts: int = 0,
    retries: int = 0,
) -> Summary:
    """Play ``calls`` calls and ``texts`` text conversations at ``url`` (the server's
    PUBLIC_URL) and summarise; no caller uses one of ``line_numbers``;
    ``progress(done, total)`` after each call.

    Raises ``SimulationStopped`` when no server answers or it refuses the signatures.
    """
    account = account_sid or "AC" + "0" * 32
    planned = plan(calls, seed=seed, line_numbers=line_numbers)
    conversations = plan_conversations(texts, seed=seed)
    summary = asyncio.run(
        _run(
            url=url,
            auth_token=auth_token,
            account_sid=account,
            planned=planned,
            conversations=conversations,
            concurrency=max(1, concurrency),
            region=region,
            progress=progress,
            retries=max(0, retries),
        )
    )
    summary.calls = len(planned)
    summary.conversations = len(conversations)
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
