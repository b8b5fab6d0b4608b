"""Sending one email from the outbox: claimed by one worker at a time.

A message is claimed with a conditional update (queued → sending), so a job and the
sweep cannot both send it. A refusal (5xx) ends it, and a refusal of the recipient is
a hard bounce: the address is suppressed. A temporary failure (4xx, no connection) puts
it back in the queue. When the connection drops after the message went out, it stays
"sending" and is tried again after a while with the same Message-ID, so a receiver can
tell the retry from a new message; SMTP has no way to ask whether it arrived.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from services.email import service as mail
from services.email.compose import Letter, Mailer, build
from services.email.gateway import MailFailed, MailRefused
from storage.crypto import Keyring

STALE_SENDING = timedelta(minutes=5)
# Reply codes that say the mailbox does not exist or the address is bad: hard bounces.
HARD_BOUNCE_CODES = frozenset({550, 551, 553})


def send_email(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    mailer: Mailer,
    message_id: int,
    *,
    now: datetime,
) -> str:
    """Try to send one email; returns its state. Raises MailFailed to be retried later."""
    with sessions.begin() as session:
        row = mail.OUTBOX.claim(session, message_id, now=now, stale_after=STALE_SENDING)
        if row is None:
            return mail.OUTBOX.state(session, message_id)
        to = mail.recipient(keyring, row)
        if mail.is_suppressed(session, keyring, to):
            row.state, row.failure, row.updated_at = "cancelled", "the address is suppressed", now
            return "cancelled"
        letter = Letter(
            subject=mail.subject_of(keyring, row),
            paragraphs=tuple(mail.body_of(keyring, row).split("\n\n")),
            unsubscribe_url=row.unsubscribe_url,
        )
        message = build(mailer, to, letter, key=row.idempotency_key, at=now)
        row.state, row.sending_since = "sending", now
        attempt = row.attempts
    try:
        with mailer.gateway.connect() as connection:
            connection.send(message)
    except MailRefused as refused:
        mail.OUTBOX.finish(
            sessions, message_id, state="failed", failure=str(refused)[:120], updated_at=now
        )
        if refused.code in HARD_BOUNCE_CODES:
            with sessions.begin() as session:
                mail.suppress(session, keyring, to, reason="hard_bounce", now=now)
        return "failed"
    except MailFailed as failed:
        if mail.OUTBOX.failed_attempt(
            sessions,
            message_id,
            attempt=attempt,
            max_attempts=mailer.max_attempts,
            ambiguous=failed.ambiguous,
            now=now,
        ):
            return "failed"
        raise
    mail.OUTBOX.finish(
        sessions,
        message_id,
        state="sent",
        gateway=mailer.gateway.name,
        sent_at=now,
        sending_since=None,
        updated_at=now,
    )
    return "sent"


def due(session: Session, *, now: datetime, limit: int = 500) -> list[int]:
    """Emails that should have gone by now (lost jobs, retries after a dropped connection)."""
    return mail.OUTBOX.due(session, now=now, limit=limit, stale_after=STALE_SENDING)
