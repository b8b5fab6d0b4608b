"""Texts, one function per use case: reading the outbox and callers' replies (each
audited in its unit of work), and handing texts that are due to the sender's queue. The
staff API and the appointments' actions call these."""

from __future__ import annotations

from services.messaging import service as texts
from services.messaging.schemas import InboundOut, Outbox, TextOut
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.requests import service as requests


def read_outbox(
    context: AppContext, actor: Actor, *, before_id: int | None = None, limit: int = 50
) -> Outbox:
    """Texts sent or waiting, newest first: with the console gateway, this is where they go."""
    with unit_of_work(context, actor, "messages.outbox", object_type="text_message") as work:
        found = texts.outbox(work.session, before_id=before_id, limit=limit)
        work.note(results=len(found))
        items = [TextOut.of(message, context.keyring, context.city_tz) for message in found]
    return Outbox(items=items, next_before_id=items[-1].id if len(items) == limit else None)


def read_inbound(context: AppContext, actor: Actor, *, limit: int = 50) -> list[InboundOut]:
    """Texts callers sent, newest first, each with the sender's earlier requests."""
    with unit_of_work(context, actor, "messages.inbound", object_type="inbound_text") as work:
        items = []
        for row in texts.inbound(work.session, limit=limit):
            sender = texts.inbound_sender(context.keyring, row)
            earlier = requests.search_requests(
                work.session,
                context.keyring,
                requests.SearchKey("phone", sender),
                region=context.region,
                limit=10,
            )
            items.append(
                InboundOut(
                    id=row.id,
                    sender=sender,
                    body=texts.inbound_body(context.keyring, row),
                    keyword=row.keyword,
                    received_at=row.received_at.astimezone(context.city_tz),
                    earlier_requests=[request.public_id for request in earlier],
                )
            )
        work.note(results=len(items))
        return items


def send_due(context: AppContext, message_ids: list[int]) -> None:
    """Queue for sending those of ``message_ids`` whose time has come; call it once the
    transaction that queued them has committed (the sender reads them)."""
    with context.db() as session:
        due = texts.ready(session, message_ids, now=context.clock.now())
    for message_id in due:
        context.jobs.enqueue("sms.send", {"message_id": message_id})
