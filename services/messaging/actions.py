"""Texts, one function per use case: reading the outbox and callers' replies (each
audited in its unit of work), and handing texts that are due to the sender's queue. The
staff API and the appointments' actions call these."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.appointments.models import Appointment
from services.appointments.service import TextPolicy
from services.messaging import service as texts
from services.messaging.models import InboundText
from services.messaging.schemas import (
    ConversationAppointment,
    ConversationEntry,
    ConversationOut,
    InboundOut,
    Outbox,
    ReplyIn,
    TextOut,
)
from services.platform import ssn
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField, Problem, existing
from services.platform.outbox import read_page
from services.requests import service as requests
from services.requests.models import ServiceRequest

# The city never texts a link that asks for personal or financial details: a reply
# written by staff carries none at all.
LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|org|net|gov|us|io|ly|co)\b", re.I)


def read_outbox(
    context: AppContext, actor: Actor, *, before_id: int | None = None, limit: int = 50
) -> Outbox:
    """Texts sent or waiting, newest first: with the console gateway, this is where they go."""
    items, next_before_id = read_page(
        context,
        actor,
        texts.OUTBOX,
        TextOut.of,
        action="messages.outbox",
        object_type="text_message",
        before_id=before_id,
        limit=limit,
    )
    return Outbox(items=items, next_before_id=next_before_id)


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


def _conversation(context: AppContext, session: Session, number: str) -> ConversationOut:
    tz = context.city_tz
    entries = [
        ConversationEntry(
            direction="out",
            id=message.id,
            # When it was due, not when the carrier took it: a reply that came in while
            # the sender was busy still follows the text it answers.
            at=message.not_before.astimezone(tz),
            body=texts.body_of(context.keyring, message),
            kind=message.kind,
            state=message.state,
        )
        for message in texts.texts_to(session, context.keyring, number)
    ] + [
        ConversationEntry(
            direction="in",
            id=text.id,
            at=text.received_at.astimezone(tz),
            body=texts.inbound_body(context.keyring, text),
            kind=None,
            state=None,
        )
        for text in texts.texts_from(session, context.keyring, number)
    ]
    entries.sort(key=lambda entry: (entry.at, entry.direction == "in", entry.id))
    visits = session.execute(
        select(Appointment, ServiceRequest.public_id)
        .join(ServiceRequest, ServiceRequest.id == Appointment.request_id)
        .where(Appointment.phone_index == context.keyring.blind_index("phone", number))
        .order_by(Appointment.starts_at)
    )
    earlier = requests.search_requests(
        session,
        context.keyring,
        requests.SearchKey("phone", number),
        region=context.region,
        limit=10,
    )
    return ConversationOut(
        number=number,
        opted_out=texts.is_opted_out(session, context.keyring, number),
        items=entries,
        appointments=[
            ConversationAppointment(
                id=appointment.public_id,
                request_id=request_id,
                starts_at=appointment.starts_at.astimezone(tz),
                ends_at=appointment.ends_at.astimezone(tz),
                status=appointment.status,
            )
            for appointment, request_id in visits
        ],
        requests=[request.public_id for request in earlier],
    )


def _inbound(session: Session, inbound_id: int) -> InboundText:
    return existing(texts.get_inbound(session, inbound_id), "text")


def read_conversation(context: AppContext, actor: Actor, inbound_id: int) -> ConversationOut:
    """The texts to and from the number that sent text ``inbound_id``, in order, with
    the number's visits and earlier requests."""
    with unit_of_work(
        context,
        actor,
        "messages.conversation",
        object_type="inbound_text",
        object_id=str(inbound_id),
    ) as work:
        sender = texts.inbound_sender(context.keyring, _inbound(work.session, inbound_id))
        conversation = _conversation(context, work.session, sender)
        work.note(results=len(conversation.items))
        return conversation


def reply(context: AppContext, actor: Actor, inbound_id: int, body: ReplyIn) -> ConversationOut:
    """Text the caller who sent text ``inbound_id`` back, at the number they texted
    from; the conversation as it then stands. Refused (422, naming ``body``) for an
    SSN-like number or a link; 409 when the number has said STOP, or for the same words
    sent to the same text before. Quiet hours hold it."""
    with unit_of_work(
        context, actor, "messages.reply", object_type="inbound_text", object_id=str(inbound_id)
    ) as work:
        text = body.body.strip()
        if not text:
            raise InvalidField("body", "Write the reply before sending it.")
        ssn.refuse("body", text)
        if LINK.search(text):
            raise InvalidField(
                "body",
                "A reply cannot carry a link or web address: the city never texts links. "
                "Say where to look in words instead.",
            )
        inbound = _inbound(work.session, inbound_id)
        sender = texts.inbound_sender(context.keyring, inbound)
        if texts.is_opted_out(work.session, context.keyring, sender):
            raise Problem(
                409,
                "The caller has opted out",
                "This number replied STOP, so no text can be sent to it until it texts START.",
            )
        queued = texts.queue_text(
            work.session,
            context.keyring,
            # The same words to the same text are sent once: sent again, they are a
            # retry (a double click, a client that did not hear the answer).
            key=f"reply:{inbound.message_sid}:{context.keyring.keyed_hash('text-reply', text)}",
            kind="reply",
            to=sender,
            body=text,
            language="en",
            appointment_id=None,
            not_before=context.part(TextPolicy).quiet.release(work.now),
            now=work.now,
        )
        if queued is None:
            raise Problem(
                409,
                "Already sent",
                "This reply was already sent to this text; change it to send another.",
            )
        work.note(characters=len(text))
        conversation = _conversation(context, work.session, sender)
    send_due(context, [queued])
    return conversation
