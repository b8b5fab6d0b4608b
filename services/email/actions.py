"""Email, one function per use case: reading the outbox and what the console gateway
kept, recording a bounce or a complaint (each audited), and handing queued mail to the
sender once committed."""

from __future__ import annotations

from services.email import service as mail
from services.email.compose import Mailer
from services.email.gateway import ConsoleEmail
from services.email.schemas import (
    ConsoleEmailOut,
    EmailOut,
    EmailOutbox,
    KeptEmailOut,
    SuppressionIn,
    SuppressionOut,
)
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.outbox import read_page
from services.platform.resources import resource


def read_outbox(
    context: AppContext, actor: Actor, *, before_id: int | None = None, limit: int = 50
) -> EmailOutbox:
    """Emails sent or waiting, newest first: with the console gateway, this is where they go."""
    items, next_before_id = read_page(
        context,
        actor,
        mail.OUTBOX,
        EmailOut.of,
        action="email.outbox",
        object_type="email",
        before_id=before_id,
        limit=limit,
    )
    return EmailOutbox(items=items, next_before_id=next_before_id)


def gateway_name(context: AppContext) -> str:
    """How mail leaves: "console" (kept, nothing sent) or "smtp"."""
    return context.part(Mailer).gateway.name


def read_console(context: AppContext, actor: Actor) -> ConsoleEmailOut:
    """What the console gateway took instead of sending, newest first: sign-up
    confirmations and alerts are kept nowhere else. Only what this process handed over
    (a worker of its own keeps its own); with SMTP, nothing. Audited with the count,
    never an address."""
    gateway = context.part(Mailer).gateway
    with unit_of_work(context, actor, "email.console", object_type="email") as work:
        kept = gateway.kept() if isinstance(gateway, ConsoleEmail) else []
        work.note(gateway=gateway.name, results=len(kept))
    tz = context.city_tz
    return ConsoleEmailOut(
        gateway=gateway.name,
        items=[
            resource(KeptEmailOut, message, handed_at=message.handed_at.astimezone(tz))
            for message in kept
        ],
    )


def record_suppression(context: AppContext, actor: Actor, body: SuppressionIn) -> SuppressionOut:
    """A hard bounce or a complaint: no more mail of any kind to that address.
    InvalidField for a value that is not an email address. The audit entry holds a
    keyed hash of the address, never the address."""
    with unit_of_work(context, actor, "email.suppress", object_type="email_address") as work:
        address = mail.email_address(body.email)
        work.note(
            reason=body.reason,
            address_hash=context.keyring.keyed_hash("audit-search", address),
        )
        new = mail.suppress(
            work.session, context.keyring, address, reason=body.reason, now=work.now
        )
        work.note(new=new)
        return SuppressionOut(reason=body.reason, new=new)


def send_queued(context: AppContext, message_ids: list[int]) -> None:
    """Hand emails queued by a committed transaction to the sender."""
    for message_id in message_ids:
        context.jobs.enqueue("email.send", {"message_id": message_id})
