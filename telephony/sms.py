"""Text webhooks (replies and delivery status) and the Twilio text gateway."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.messaging_response import MessagingResponse

from services.contacts import service as contacts
from services.messaging import service as texts
from services.messaging.carrier import SendFailed, SendRefused, Sent
from services.messaging.sending import Outbound
from services.messaging.templates import render
from services.platform import ssn
from services.platform.errors import Problem
from services.platform.phones import read_caller_id
from telephony.rest import TwilioAccount
from telephony.webhooks import TwilioRoute, app_context, twilio_form

MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
REFUSALS = frozenset({"21211", "21408", "21610", "21612", "21614", "21606"})

router = APIRouter(
    prefix="/twilio", tags=["twilio"], include_in_schema=False, route_class=TwilioRoute
)


def _twiml(text: str | None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(str(reply), media_type="application/xml")


@router.post("/sms")
async def incoming_text(request: Request) -> Response:
    """A text to the city's number: STOP/START/HELP keywords, or a message for staff."""
    form, context = twilio_form(request), app_context(request)
    message_sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not MESSAGE_SID.match(message_sid):
        raise Problem(400, "Malformed webhook", "MessageSid is missing or malformed.")
    sender = read_caller_id(form.get("From"), context.region).e164
    if sender is None:
        raise Problem(400, "Malformed webhook", "From is not a phone number.")
    body = (form.get("Body") or "")[:1600]
    keyword = texts.keyword_of(body)
    now = context.clock.now()
    keyring, tz = context.keyring, context.city_tz
    # STOP and START act in the order Twilio received them, not the order their webhooks
    # arrive (a retried or replayed old STOP must not undo a newer START): Twilio's own
    # record of the text says when. Without it (no carrier, Twilio unreachable) the
    # webhook's arrival stands in.
    received_at = now
    if keyword in texts.OPT_OUT | texts.OPT_IN:
        carrier = context.part(Outbound).carrier
        carrier_time: datetime | None = await run_in_threadpool(carrier.received_at, message_sid)
        received_at = carrier_time or now

    def work(session: Session) -> bool:
        fresh = texts.log_inbound(
            session,
            keyring,
            message_sid=message_sid,
            sender=sender,
            body=ssn.redact(body) if keyword is None else keyword.upper(),
            keyword=keyword,
            now=now,
        )
        if fresh and keyword in texts.OPT_OUT | texts.OPT_IN:
            # Once per MessageSid: a replay of a text already logged changes nothing.
            texts.apply_keyword(
                session,
                keyring,
                sender,
                opted_out=keyword in texts.OPT_OUT,
                received_at=received_at,
                now=now,
            )
        if fresh and keyword is None:  # a message for staff: today's conversation
            contacts.sms_conversation(session, keyring, sender=sender, now=now, tz=tz)
        return fresh

    fresh = await context.ingest.run(work)
    context.metrics.webhooks.labels("sms", keyword or "message").inc()
    if not fresh:
        return _twiml(None)  # answered the first time; a replay gets no second reply
    language = "es" if keyword == "ayuda" else "en"
    if keyword in texts.HELP:
        return _twiml(render("help", language, city=context.city.name))
    if keyword in texts.OPT_IN:
        return _twiml(render("start", language, city=context.city.name))
    return _twiml(None)  # STOP: the carrier confirms it; a message: staff answer in person


@router.post("/sms/status", status_code=204)
async def text_status(request: Request) -> Response:
    """Delivery progress of a text we sent; late or repeated callbacks never downgrade it."""
    form, context = twilio_form(request), app_context(request)
    message_sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not MESSAGE_SID.match(message_sid) or status not in texts.STATUS_RANK:
        raise Problem(
            400, "Malformed webhook", "MessageSid or MessageStatus is missing or unknown."
        )
    error_code = form.get("ErrorCode") or None
    now = context.clock.now()

    def work(session: Session) -> bool:
        return texts.record_status(
            session,
            context.keyring,
            message_sid=message_sid,
            status=status,
            error_code=error_code,
            now=now,
        )

    await context.ingest.run(work)
    context.metrics.webhooks.labels("sms-status", status).inc()
    return Response(status_code=204)


class TwilioTextGateway:
    """Texts through the Twilio SDK's ``messages.create`` (``TWILIO_API_BASE_URL``)."""

    name = "twilio"

    def __init__(
        self,
        account: TwilioAccount,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        lookups: bool,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("texts need TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self._client = account.client
        self._sender = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_number}
        )
        self._lookups = lookups

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        try:
            message = self._client.messages.create(
                to=to, body=body, status_callback=status_callback, **self._sender
            )
        except TwilioRestException as exc:
            code = str(exc.code or "")
            if exc.status == 429 or exc.status >= 500:
                raise SendFailed(f"Twilio answered {exc.status}") from exc
            if code in REFUSALS or 400 <= exc.status < 500:
                raise SendRefused(code, f"Twilio refused the text ({code or exc.status})") from exc
            raise SendFailed(f"Twilio answered {exc.status}") from exc
        except Exception as exc:
            raise SendFailed(
                f"no answer from Twilio ({type(exc).__name__})", ambiguous=True
            ) from exc
        return Sent(message_sid=str(message.sid), status=str(message.status or "queued"))

    def find_sent(self, *, to: str, body: str, since: datetime) -> Sent | None:
        try:
            for message in self._client.messages.list(to=to, date_sent_after=since, limit=50):
                if message.body == body:
                    return Sent(message_sid=str(message.sid), status=str(message.status))
        except Exception as exc:
            raise SendFailed(
                f"could not check what was sent ({type(exc).__name__})", ambiguous=True
            ) from exc
        return None

    def received_at(self, message_sid: str) -> datetime | None:
        try:
            message = self._client.messages(message_sid).fetch()
        except (TwilioRestException, OSError):  # unreachable, or unknown: the caller falls back
            return None
        created = message.date_created
        if not isinstance(created, datetime):
            return None
        return created if created.tzinfo else created.replace(tzinfo=UTC)

    def line_type(self, number: str) -> str | None:
        if not self._lookups:
            return None
        try:
            found = self._client.lookups.v2.phone_numbers(number).fetch(
                fields="line_type_intelligence"
            )
        except TwilioRestException:
            return None
        intelligence = found.line_type_intelligence or {}
        kind = intelligence.get("type") if isinstance(intelligence, dict) else None
        return str(kind) if kind else None
