"""Contacts, one function per use case: each opens its unit of work, does the work
through the service, and leaves its audit entry (also when the contact is not there or
the wrap-up is refused). The staff API, the console and Open311 call these.

An audit entry names contacts, never an anonymous request: a wrap-up notes how many
requests it linked and how many were anonymous, and no more.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.calls import service as calls
from services.calls.progress import NO_SEQUENCE
from services.contacts import caller as callers
from services.contacts import service as contacts
from services.contacts.callbacks import (
    CALLBACK_RINGING_AT_MOST,
    CallbackFailed,
    CallbackPolicy,
    PlacedCall,
)
from services.contacts.models import Contact
from services.contacts.schemas import (
    CallbackIn,
    CallbackOut,
    CallerAppointment,
    CallerContact,
    CallerOut,
    CallerRequest,
    CallerText,
    ContactList,
    ContactLogIn,
    ContactRecord,
    ContactSearch,
    WrapUpIn,
)
from services.messaging.service import body_of, inbound_body
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField, NotFound, Problem, existing
from services.platform.phones import for_people
from services.platform.roles import Role
from services.requests import service as service_requests
from services.requests.models import ServiceRequest
from services.staff.models import StaffUser


def _out(context: AppContext, session: Session, contact: Contact) -> ContactRecord:
    filed = contacts.request_public_ids(session, [contact])
    return ContactRecord.of(
        contact,
        request_ids=filed.get(contact.id, []),
        notes=contacts.notes_of(context.keyring, contact),
        tz=context.city_tz,
    )


def _found(session: Session, contact_id: str) -> Contact:
    return existing(contacts.get_contact(session, contact_id), "contact")


def log_contact(context: AppContext, actor: Actor, body: ContactLogIn) -> ContactRecord:
    """Log a contact by hand (an email answered, a walk-in), handled by whoever logs it."""
    with unit_of_work(context, actor, "contact.create", object_type="contact") as work:
        started = body.started_at or work.now
        if started > work.now:
            raise InvalidField("started_at", "is in the future")
        contact = contacts.log_contact(
            work.session,
            context.keyring,
            contacts.NewContact(
                channel=body.channel,
                agent=actor.username,
                started_at=started,
                ended_at=body.ended_at,
                department=body.department,
            ),
            now=work.now,
        )
        if contact.channel == "walk_in" and body.ended_at is None and actor.username:
            contacts.serving_in_person(work.session, agent=actor.username, now=work.now)
        work.object_id = contact.public_id
        work.note(channel=contact.channel)
        return _out(context, work.session, contact)


def log_web_contact(context: AppContext, actor: Actor, request_id: str) -> None:
    """An Open311 submission is a web contact, with its request linked (an anonymous
    one only counted)."""
    with unit_of_work(context, actor, "contact.create", object_type="contact") as work:
        request = service_requests.get_request(work.session, request_id)
        anonymous = request is None or request.anonymous
        contact = contacts.log_contact(
            work.session,
            context.keyring,
            contacts.NewContact(
                channel="web",
                agent=None,
                started_at=work.now,
                ended_at=work.now,
                request_ids=() if anonymous or request is None else (request.id,),
                anonymous_requests=1 if anonymous else 0,
            ),
            now=work.now,
        )
        work.object_id = contact.public_id
        work.note(channel="web", linked=0 if anonymous else 1, anonymous=int(anonymous))


def read_contact(context: AppContext, actor: Actor, contact_id: str) -> ContactRecord:
    """One contact with its topics, outcome, requests and notes."""
    with unit_of_work(
        context, actor, "contact.view", object_type="contact", object_id=contact_id
    ) as work:
        return _out(context, work.session, _found(work.session, contact_id))


def search_contacts(context: AppContext, actor: Actor, search: ContactSearch) -> ContactList:
    """Contacts newest first, by call, agent and period (the filters' names are audited)."""
    with unit_of_work(context, actor, "contacts.search", object_type="contact") as work:
        found = contacts.search_contacts(
            work.session,
            call_sid=search.call_sid,
            agent=search.agent,
            request_id=search.request_id,
            since=search.since,
            until=search.until,
        )
        work.note(
            results=len(found),
            filters=sorted(name for name, value in search.model_dump().items() if value),
        )
        filed = contacts.request_public_ids(work.session, found)
        return ContactList(
            items=[
                ContactRecord.of(
                    contact,
                    request_ids=filed.get(contact.id, []),
                    notes=contacts.notes_of(context.keyring, contact),
                    tz=context.city_tz,
                )
                for contact in found
            ]
        )


def wrap_up_contact(
    context: AppContext, actor: Actor, contact_id: str, body: WrapUpIn
) -> ContactRecord:
    """Record the contact's topics, resolution, requests filed, transfer and notes. The
    agent who handled it wraps it up (a supervisor may for anyone: 403 for others); the
    agent is then out of wrap-up. A second wrap-up corrects the first."""
    with unit_of_work(
        context, actor, "contact.wrap_up", object_type="contact", object_id=contact_id
    ) as work:
        contact = _found(work.session, contact_id)
        own = contact.agent is None or contact.agent == actor.username
        if not own and actor.role != Role.SUPERVISOR.value:
            raise Problem(403, "Forbidden", "Only its agent or a supervisor wraps a contact up.")
        first = contact.wrapped_up_at is None
        if contact.agent is None and actor.username is not None:
            contact.agent = actor.username  # a text or web contact: whoever answers it
        result = contacts.wrap_up(
            work.session,
            context.keyring,
            contact,
            contacts.WrapUp(**body.model_dump()),
            now=work.now,
        )
        if first:
            contacts.end_wrap_up(work.session, agent=contact.agent, now=work.now)
            if contact.channel == "walk_in":
                contacts.served_in_person(work.session, agent=contact.agent, now=work.now)
        work.note(
            resolution=body.resolution,
            topics=len(result.topics),
            linked_requests=len(result.linked),
            anonymous_requests=result.anonymous,
            corrected=not first,
        )
        return ContactRecord.of(
            contact,
            request_ids=result.linked,
            notes=body.notes.strip() if body.notes and body.notes.strip() else None,
            tz=context.city_tz,
            topics=result.topics,
        )


# -- callbacks -------------------------------------------------------------------------


def _callback_target(
    context: AppContext, actor: Actor, body: CallbackIn
) -> tuple[contacts.CallbackTarget, list[str]]:
    """Read (not write) what the callback needs: the agent's destination and the
    caller's number from the sealed record. Problem for what refuses it."""
    with context.db() as session:
        user = session.get(StaffUser, actor.user_id or 0)
        if user is None or user.destination is None:
            raise InvalidField(
                "agent", "you have no destination for calls to ring; ask an administrator"
            )
        going = contacts.unended_callback(
            session, user.username, since=context.clock.now() - CALLBACK_RINGING_AT_MOST
        )
        if going is not None:
            raise Problem(
                409,
                "Callback still going",
                f"Your callback {going.public_id} is still ringing or on the line; "
                "place another once it has ended.",
            )
        if body.request_id is not None:
            request, number = contacts.callback_number_for_request(
                session, context.keyring, body.request_id
            )
            return contacts.CallbackTarget(user.destination, number, (request.id,)), []
        assert body.contact_id is not None
        contact = existing(contacts.get_contact(session, body.contact_id), "contact")
        number = contacts.callback_number_for_contact(session, context.keyring, contact)
        linked = tuple(link.request_id for link in contact.requests)
        return (
            contacts.CallbackTarget(user.destination, number, linked, contact.department),
            [contact.public_id],
        )


def place_callback(context: AppContext, actor: Actor, body: CallbackIn) -> CallbackOut:
    """Call a caller back: Twilio rings the agent, then the caller with the 311 number
    as caller ID. Logged as an outbound call and a phone contact, and audited (refusals
    too: an anonymous request 409, no number on record 422, Twilio's failure 502).
    Twilio is asked outside any transaction, so webhooks never wait on it."""
    policy = context.part(CallbackPolicy)
    object_type, object_id = (
        ("service_request", body.request_id)
        if body.request_id is not None
        else ("contact", body.contact_id)
    )
    refusal: Problem | None = None
    placed: PlacedCall | None = None
    target: contacts.CallbackTarget | None = None
    about: list[str] = []
    try:
        if policy.dialer is None or not policy.caller_id:
            raise Problem(
                503,
                "Callbacks unavailable",
                "Callbacks need Twilio credentials and the 311 number.",
            )
        target, about = _callback_target(context, actor, body)
        placed = policy.dialer.place(
            agent_destination=target.agent_destination,
            caller=target.caller,
            caller_id=policy.caller_id,
            status_callback=policy.status_callback,
        )
    except Problem as problem:
        refusal = problem
    except CallbackFailed as failed:
        refusal = Problem(502, "Callback not placed", str(failed))
    with unit_of_work(
        context, actor, "callback.place", object_type=object_type, object_id=object_id
    ) as work:
        if refusal is not None:
            raise refusal
        assert placed is not None and target is not None
        calls.record_call_event(
            work.session,
            context.keyring,
            calls.VoiceEvent(
                call_sid=placed.call_sid,
                source="callback",
                status="queued",
                sequence=NO_SEQUENCE,
                occurred_at=work.now,
                received_at=work.now,
                direction="outbound-api",
                from_raw=policy.caller_id,
                to_raw=target.agent_destination,
            ),
            region=context.region,
        )
        contact = contacts.log_contact(
            work.session,
            context.keyring,
            contacts.NewContact(
                channel="phone",
                direction="outbound",
                agent=actor.username,
                call_sid=placed.call_sid,
                started_at=work.now,
                department=target.department,
                request_ids=target.request_row_ids,
                phone=target.caller,
            ),
            now=work.now,
        )
        work.note(call_sid=placed.call_sid, contact_id=contact.public_id, after_contacts=about)
        return CallbackOut(
            call_sid=placed.call_sid, contact_id=contact.public_id, status=placed.status
        )


# -- the caller on a call ----------------------------------------------------------------


def caller_on_call(context: AppContext, actor: Actor, call_sid: str) -> CallerOut:
    """The caller on a call, for the call taker's workspace: the number (or that it was
    withheld), the call's own contact once answered, and the caller's earlier requests,
    contacts, appointments and texts, newest first. Audited with the counts."""
    with unit_of_work(
        context, actor, "call.caller", object_type="call", object_id=call_sid
    ) as work:
        session, tz = work.session, context.city_tz
        history = callers.caller_history(session, context.keyring, call_sid, region=context.region)
        if history is None:
            raise NotFound("call")
        names = callers.service_names(session, {r.service_code for r in history.requests})
        linked = contacts.request_public_ids(session, history.contacts)
        appointment_requests = {
            request.id: request.public_id
            for request in session.scalars(
                select(ServiceRequest).where(
                    ServiceRequest.id.in_({a.request_id for a in history.appointments})
                )
            )
        }
        texts = [
            CallerText(
                direction="to_caller",
                at=(text.sent_at or text.created_at).astimezone(tz),
                body=body_of(context.keyring, text),
                state=text.state,
            )
            for text in history.texts_sent
        ] + [
            CallerText(
                direction="from_caller",
                at=text.received_at.astimezone(tz),
                body=inbound_body(context.keyring, text),
                state=None,
            )
            for text in history.texts_received
        ]
        texts.sort(key=lambda text: text.at, reverse=True)
        call = history.call
        work.note(
            withheld=call.caller_withheld,
            requests=len(history.requests),
            contacts=len(history.contacts),
            appointments=len(history.appointments),
            texts=len(texts),
        )
        return CallerOut(
            call_sid=call.call_sid,
            started_at=call.started_at.astimezone(tz),
            ended=call.ended_at is not None,
            extension=call.extension,
            withheld=call.caller_withheld,
            number=history.number,
            number_for_people=for_people(history.number, context.region),
            contact=(None if history.contact is None else _out(context, session, history.contact)),
            requests=[
                CallerRequest(
                    id=request.public_id,
                    service_code=request.service_code,
                    service_name=names.get(request.service_code, "a service no longer offered"),
                    status=request.status,
                    address=request.address,
                    description=request.description[:200],
                    created_at=request.created_at.astimezone(tz),
                )
                for request in history.requests
            ],
            contacts=[
                CallerContact(
                    id=contact.public_id,
                    channel=contact.channel,
                    direction=contact.direction,
                    agent=contact.agent,
                    started_at=contact.started_at.astimezone(tz),
                    resolution=contact.resolution,
                    topics=[topic.code for topic in contact.topics],
                    request_ids=linked.get(contact.id, []),
                )
                for contact in history.contacts
            ],
            appointments=[
                CallerAppointment(
                    id=appointment.public_id,
                    request_id=appointment_requests.get(appointment.request_id),
                    starts_at=appointment.starts_at.astimezone(tz),
                    ends_at=appointment.ends_at.astimezone(tz),
                    department=appointment.department,
                    status=appointment.status,
                )
                for appointment in history.appointments
            ],
            texts=texts[: callers.LIMIT],
        )
