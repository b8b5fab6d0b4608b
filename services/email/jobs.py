"""Background jobs that send email."""

from __future__ import annotations

from typing import Any

from services.email.compose import Mailer
from services.email.sending import due, send_email
from services.platform.context import AppContext


def send_one(context: AppContext, payload: dict[str, Any]) -> None:
    """Send one email from the outbox (retried with backoff when the server is away)."""
    mailer = context.part(Mailer)
    context.jobs.take_rate("email-sender", per_second=mailer.rate_per_second)
    send_email(
        context.db, context.keyring, mailer, int(payload["message_id"]), now=context.clock.now()
    )


def send_due(context: AppContext, _payload: dict[str, Any]) -> None:
    """Every minute: queue emails whose job was lost or whose connection dropped."""
    with context.db() as session:
        ids = due(session, now=context.clock.now())
    for message_id in ids:
        context.jobs.enqueue("email.send", {"message_id": message_id})
