"""Sending one text: claimed by one worker at a time, never twice to the carrier.

A text is claimed with a conditional update (queued or held → sending), so a job and
the sweep cannot both send it. If the carrier's answer is lost (the connection drops
after it may have taken the text), the text stays "sending"; the next attempt first asks
the carrier whether a text with this body went to this number since, and adopts it if
so. Rate-limited (429) and 5xx answers put the text back in the queue to try later;
refusals (invalid number, not a mobile, unsubscribed) end it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from services.messaging import service as texts
from services.messaging.carrier import SendFailed, SendRefused, Sent, SmsGateway
from storage.crypto import Keyring

# A text left "sending" this long had its attempt cut off; it may be checked and retried.
STALE_SENDING = timedelta(minutes=2)


@dataclass(frozen=True)
class Outbound:
    """How texts leave: the carrier, where its status callbacks go, and the sender's limits."""

    carrier: SmsGateway
    status_callback: str | None
    max_attempts: int
    rate_per_second: int
    # A send whose answer was lost is checked with the carrier, then retried, after this.
    uncertain_after: timedelta = STALE_SENDING


@dataclass(frozen=True)
class SendConfig:
    gateway: SmsGateway
    status_callback: str | None
    max_attempts: int
    take_rate: Callable[[], None]
    stale_after: timedelta = STALE_SENDING


def send_text(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    config: SendConfig,
    message_id: int,
    *,
    now: datetime,
) -> str:
    """Try to send one text; returns its state. Raises to be retried later."""
    config.take_rate()  # before claiming: a rate-limited wait leaves nothing ambiguous
    with sessions.begin() as session:
        message = texts.OUTBOX.claim(session, message_id, now=now, stale_after=config.stale_after)
        if message is None:
            return texts.OUTBOX.state(session, message_id)
        to, body = texts.recipient(keyring, message), texts.body_of(keyring, message)
        uncertain_since = message.sending_since if message.state == "sending" else None
        if texts.is_opted_out(session, keyring, to):
            message.state, message.failure, message.updated_at = (
                "cancelled",
                "the number opted out",
                now,
            )
            return "cancelled"
        message.state, message.sending_since = "sending", uncertain_since or now
        attempt = message.attempts
    if uncertain_since is not None:
        already = config.gateway.find_sent(
            to=to, body=body, since=uncertain_since - timedelta(minutes=1)
        )
        if already is not None:
            _record_sent(sessions, message_id, already, config.gateway.name, now)
            return "sent"
    try:
        sent = config.gateway.send(to=to, body=body, status_callback=config.status_callback)
    except SendRefused as refused:
        texts.OUTBOX.finish(
            sessions,
            message_id,
            state="failed",
            error_code=refused.code,
            failure=str(refused)[:120],
            updated_at=now,
        )
        if refused.code == texts.UNSUBSCRIBED:
            with sessions.begin() as session:
                texts.set_opt_out(session, keyring, to, opted_out=True, source="carrier", now=now)
        return "failed"
    except SendFailed as failed:
        if texts.OUTBOX.failed_attempt(
            sessions,
            message_id,
            attempt=attempt,
            max_attempts=config.max_attempts,
            ambiguous=failed.ambiguous,
            now=now,
        ):
            return "failed"
        raise
    _record_sent(sessions, message_id, sent, config.gateway.name, now)
    return "sent"


def _record_sent(
    sessions: sessionmaker[Session], message_id: int, sent: Sent, gateway: str, now: datetime
) -> None:
    texts.OUTBOX.finish(
        sessions,
        message_id,
        state="sent",
        message_sid=sent.message_sid,
        twilio_status=sent.status,
        gateway=gateway,
        sent_at=now,
        sending_since=None,
        updated_at=now,
    )


def due(
    session: Session, *, now: datetime, limit: int = 500, stale_after: timedelta = STALE_SENDING
) -> list[int]:
    """Texts that should be sent by now (held ones whose quiet hours ended, lost jobs)."""
    return texts.OUTBOX.due(session, now=now, limit=limit, stale_after=stale_after)
