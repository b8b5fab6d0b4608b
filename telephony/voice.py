"""Voice webhooks: the incoming call, the menu choice, call progress, and what follows a dial.

Each handler turns Twilio's form into a ``VoiceEvent`` and a plain service call, commits,
and only then answers, so an acknowledged event is durably stored. No network calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from services.calls import service as calls
from services.calls.progress import NO_SEQUENCE, normalise_status
from services.contacts import service as contacts
from services.directory import ivr
from services.directory import service as directory
from services.directory.service import MenuEntry
from services.platform.context import AppContext
from services.platform.errors import Problem
from services.platform.params import ACCOUNT_SID, CALL_SID
from services.staff.service import PresencePolicy
from telephony import twiml
from telephony.webhooks import TwilioForm, TwilioRoute, app_context, twilio_form

TWIML = "application/xml"

router = APIRouter(
    prefix="/twilio/voice", tags=["twilio"], include_in_schema=False, route_class=TwilioRoute
)


def _twiml(body: str) -> Response:
    return Response(content=body, media_type=TWIML)


def _language(value: str | None) -> str:
    return "es" if value == "es" else "en"


def _attempt(value: str | None) -> int:
    # The query is covered by the signature, so it is as our own TwiML wrote it.
    return int(value) if value and value.isdigit() and 0 < int(value) <= 10 else 1


def _voice_event(
    form: TwilioForm, *, source: str, received_at: datetime, status: str | None = None
) -> calls.VoiceEvent:
    """Read the fields every voice webhook shares; 400 for what Twilio never sends."""
    call_sid = form.get("CallSid") or ""
    if not CALL_SID.match(call_sid):
        raise Problem(400, "Malformed webhook", "CallSid is missing or not a Twilio call SID.")
    status = status or normalise_status(form.get("CallStatus"))
    if status is None:
        raise Problem(400, "Malformed webhook", "CallStatus is missing or unknown.")
    parent = form.get("ParentCallSid") or None
    if parent is not None and not CALL_SID.match(parent):
        raise Problem(400, "Malformed webhook", "ParentCallSid is not a Twilio call SID.")
    account = form.get("AccountSid") or None
    sequence = form.integer("SequenceNumber")
    return calls.VoiceEvent(
        call_sid=call_sid,
        source=source,
        status=status,
        sequence=NO_SEQUENCE if sequence is None else sequence,
        occurred_at=form.timestamp() or received_at,
        received_at=received_at,
        parent_call_sid=parent,
        account_sid=account if account and ACCOUNT_SID.match(account) else None,
        direction=(form.get("Direction") or None),
        from_raw=form.get("From") or form.get("Caller"),
        to_raw=form.get("To") or form.get("Called"),
        caller_name=form.get("CallerName"),
        duration_seconds=form.integer("CallDuration"),
        detail=(form.get("SipResponseCode") or form.get("AnsweredBy") or None),
    )


@dataclass(frozen=True)
class _Answer:
    """How the line answers a new call: the menu, whether it is open, the welcome."""

    menu: list[MenuEntry]
    open: bool
    welcome: str | None


def _incoming(context: AppContext, event: calls.VoiceEvent) -> Callable[[Session], _Answer]:
    region, policy = context.region, context.part(ivr.IvrPolicy)

    def work(session: Session) -> _Answer:
        calls.record_call_event(session, context.keyring, event, region=region)
        return _Answer(
            directory.menu(session),
            ivr.is_open(session, policy, event.received_at),
            directory.welcome(session, "en"),
        )

    return work


def _menu_choice(
    context: AppContext, event: calls.VoiceEvent, digits: str, language: str, attempt: int
) -> Callable[[Session], tuple[ivr.MenuOutcome, ivr.Offer | None]]:
    region, policy = context.region, context.part(ivr.IvrPolicy)
    presence = context.part(PresencePolicy)

    def work(session: Session) -> tuple[ivr.MenuOutcome, ivr.Offer | None]:
        calls.record_call_event(session, context.keyring, event, region=region)
        outcome = ivr.choose(
            session,
            policy,
            call_sid=event.call_sid,
            digits=digits,
            language=language,
            attempt=attempt,
            now=event.received_at,
        )
        if outcome.connect is None:
            return outcome, None
        offer = ivr.next_offer(
            session,
            policy,
            presence,
            call_sid=event.call_sid,
            entry=outcome.connect,
            now=event.received_at,
        )
        return outcome, offer

    return work


def _dial(context: AppContext, offer: ivr.Offer, language: str) -> Response:
    return _twiml(
        twiml.dial(
            offer.dial_entry,
            base_url=context.city.public_url,
            language=language,
            timeout=context.part(ivr.IvrPolicy).dial_timeout_seconds,
        )
    )


async def _record(context: AppContext, event: calls.VoiceEvent) -> bool:
    log = calls.CallLog(context.keyring, context.region)
    return await context.ingest.run_batched(log.record, event)


@router.post("")
async def incoming_call(request: Request) -> Response:
    """A call reached 311: log it and answer with the greeting and menu."""
    form, context = twilio_form(request), app_context(request)
    policy, base_url = context.part(ivr.IvrPolicy), context.city.public_url
    now = context.clock.now()
    event = _voice_event(form, source="voice", received_at=now)
    answer = await context.ingest.run(_incoming(context, event))
    context.metrics.webhooks.labels("voice", "stored").inc()
    if not answer.open:
        return _twiml(
            twiml.after_hours(
                base_url=base_url,
                language="en",
                city=policy.city,
                max_seconds=policy.voicemail_max_seconds,
                welcome=answer.welcome,
            )
        )
    return _twiml(
        twiml.menu(
            answer.menu,
            base_url=base_url,
            language="en",
            city=policy.city,
            attempt=1,
            greet=True,
            welcome=answer.welcome,
        )
    )


@router.post("/gather")
async def menu_choice(request: Request) -> Response:
    """The caller pressed keys (or nothing): connect, switch language, or ask again."""
    form, context = twilio_form(request), app_context(request)
    lang = _language(request.query_params.get("lang"))
    attempt = _attempt(request.query_params.get("attempt"))
    policy, base_url = context.part(ivr.IvrPolicy), context.city.public_url
    event = _voice_event(form, source="gather", received_at=context.clock.now())
    digits = (form.get("Digits") or "").strip()
    outcome, offer = await context.ingest.run(_menu_choice(context, event, digits, lang, attempt))
    context.metrics.webhooks.labels("gather", "stored").inc()
    if offer is not None:
        return _dial(context, offer, outcome.language)
    if outcome.connect is not None:  # a repeated choice, after every offer was made
        return _twiml(
            twiml.voicemail(
                base_url=base_url,
                language=outcome.language,
                max_seconds=policy.voicemail_max_seconds,
            )
        )
    return _twiml(
        twiml.menu(
            outcome.menu,
            base_url=base_url,
            language=outcome.language,
            city=policy.city,
            attempt=outcome.attempt,
            greet=outcome.greet,
            apology=bool(digits) and not outcome.greet,
            welcome=outcome.welcome,
        )
    )


def _agent_leg(context: AppContext, event: calls.VoiceEvent) -> Callable[[Session], str | None]:
    region = context.region

    def work(session: Session) -> str | None:
        return contacts.record_agent_leg(
            session,
            leg_sid=event.call_sid,
            to_raw=event.to_raw,
            region=region,
            now=event.received_at,
        )

    return work


@router.post("/status", status_code=204)
async def call_progress(request: Request) -> Response:
    """A call progress event; duplicates and late arrivals are harmless. A dialled leg
    answered at a staff member's destination is theirs: it opens their contact and makes
    them busy; when it ends they are in wrap-up."""
    form, context = twilio_form(request), app_context(request)
    event = _voice_event(form, source="status", received_at=context.clock.now())
    fresh = await _record(context, event)
    agent_leg = event.parent_call_sid is not None or event.direction == "outbound-api"
    if agent_leg and event.status in ("in-progress", "completed"):
        await context.ingest.run(_agent_leg(context, event))
    context.metrics.webhooks.labels("status", "stored" if fresh else "duplicate").inc()
    return Response(status_code=204)


def _dial_ended(
    context: AppContext, event: calls.VoiceEvent, extension: str | None, dial_status: str
) -> Callable[[Session], ivr.Offer | None]:
    region, policy = context.region, context.part(ivr.IvrPolicy)
    presence = context.part(PresencePolicy)

    def work(session: Session) -> ivr.Offer | None:
        calls.record_call_event(session, context.keyring, event, region=region)
        return ivr.dial_outcome(
            session,
            policy,
            presence,
            call_sid=event.call_sid,
            extension=extension,
            dial_status=dial_status,
            now=event.received_at,
        )

    return work


@router.post("/dial-complete")
async def dial_complete(request: Request) -> Response:
    """The dialled agent or department hung up or never answered: end, offer the call to
    the next agent or the department, or take a voicemail."""
    form, context = twilio_form(request), app_context(request)
    lang = _language(request.query_params.get("lang"))
    extension = request.query_params.get("ext") or None
    if extension is not None and not (extension.isdigit() and len(extension) <= 8):
        extension = None
    event = _voice_event(form, source="dial", received_at=context.clock.now())
    dial_status = (form.get("DialCallStatus") or "").lower()
    offer = await context.ingest.run(_dial_ended(context, event, extension, dial_status))
    context.metrics.webhooks.labels("dial-complete", "stored").inc()
    if dial_status in ("completed", "answered", "canceled"):
        return _twiml(twiml.hangup())
    if offer is not None:
        return _dial(context, offer, lang)
    return _twiml(
        twiml.voicemail(
            base_url=context.city.public_url,
            language=lang,
            max_seconds=context.part(ivr.IvrPolicy).voicemail_max_seconds,
        )
    )


@router.post("/voicemail-complete")
async def voicemail_complete(request: Request) -> Response:
    """The caller finished a message; the recording itself arrives at /twilio/recordings."""
    return _twiml(twiml.goodbye(_language(request.query_params.get("lang"))))
