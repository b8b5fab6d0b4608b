"""Contacts: opened by the system when an agent answers a call, an SMS conversation
starts or an Open311 request arrives, or logged by hand; wrapped up by the agent with
topics, a resolution, the requests filed and sealed notes.

An anonymous request filed on a contact is counted, never linked: nothing on the
contact (or in its audit entry) says which request it was, so the caller's number
cannot lead to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from services.calls.models import Call
from services.calls.progress import TERMINAL_STATUSES, answered_time
from services.calls.service import party_number
from services.contacts.models import Contact, ContactRequest, ContactTopic
from services.directory.models import CallOffer
from services.knowledge import service as knowledge
from services.platform import ssn
from services.platform.errors import InvalidField, NotFound, Problem
from services.platform.public_ids import public_id
from services.platform.queries import in_period
from services.recordings.models import Recording
from services.requests.models import ServiceRequest
from services.requests.service import contact_view
from services.staff.models import StaffUser
from services.staff.service import staff_at
from storage.crypto import FieldContext, Keyring
from storage.upsert import insert_ignoring_conflicts

Channel = Literal["phone", "sms", "web", "email", "walk_in"]
Resolution = Literal[
    "information_provided",
    "request_filed",
    "transferred",
    "referred",
    "caller_hung_up",
    "wrong_number",
]
# The same values, for checks and listings (the API's schemas take the Literals).
CHANNELS: tuple[str, ...] = get_args(Channel)
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
# NYC 311's split: an inquiry is answered, referred or transferred; a request for
# service ends with a request filed; the rest are neither.
INQUIRY = frozenset({"information_provided", "transferred", "referred"})
REQUEST_FOR_SERVICE = frozenset({"request_filed"})
TOPIC_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_TOPICS = 10
MAX_SEARCH_RESULTS = 200


def kind_of(resolution: str | None) -> str:
    """inquiry, request (for service) or other."""
    if resolution in INQUIRY:
        return "inquiry"
    if resolution in REQUEST_FOR_SERVICE:
        return "request"
    return "other"


def new_public_id() -> str:
    return public_id("CT", 5, 5)


def _place(column: str, contact: Contact) -> FieldContext:
    return FieldContext("contacts", column, contact.public_id)


def known_topics(session: Session, codes: Sequence[str]) -> set[str]:
    """The codes among ``codes`` that name a topic: a knowledge-base article in service
    (a retired article's code is not taken for new wrap-ups)."""
    return knowledge.known_codes(session, [code for code in codes if TOPIC_CODE.match(code)])


def get_contact(session: Session, contact_id: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.public_id == contact_id))


def contact_of_call(session: Session, call_sid: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.call_sid == call_sid))


def _insert(session: Session, values: dict[str, object], conflict: Sequence[str]) -> None:
    insert_ignoring_conflicts(
        session,
        Contact,
        {"direction": "inbound", "anonymous_requests": 0, **values},
        conflict_columns=conflict,
    )


def open_phone_contact(
    session: Session,
    *,
    call_sid: str,
    agent: str,
    department: str | None,
    started_at: datetime,
    now: datetime,
    direction: str = "inbound",
) -> Contact:
    """The contact of the agent's answered leg ``call_sid`` (made once, whatever the
    order and number of the webhooks that tell of it)."""
    _insert(
        session,
        {
            "public_id": new_public_id(),
            "channel": "phone",
            "direction": direction,
            "call_sid": call_sid,
            "agent": agent,
            "department": department,
            "started_at": started_at,
            "created_at": now,
            "updated_at": now,
        },
        ["call_sid"],
    )
    contact = contact_of_call(session, call_sid)
    assert contact is not None  # inserted now or before
    contact.started_at = min(contact.started_at, started_at)
    return contact


def sms_conversation(
    session: Session, keyring: Keyring, *, sender: str, now: datetime, tz: ZoneInfo
) -> Contact:
    """The SMS contact of ``sender`` (E.164) for today (city time): the first text of
    the day opens it, later ones extend it."""
    index = keyring.blind_index("phone", sender)
    day = now.astimezone(tz).date()
    contact_id = new_public_id()
    _insert(
        session,
        {
            "public_id": contact_id,
            "channel": "sms",
            "phone_index": index,
            "phone_sealed": keyring.seal(sender, FieldContext("contacts", "phone", contact_id)),
            "day": day,
            "started_at": now,
            "ended_at": now,
            "created_at": now,
            "updated_at": now,
        },
        ["phone_index", "day"],
    )
    contact = session.scalar(
        select(Contact).where(Contact.phone_index == index, Contact.day == day)
    )
    assert contact is not None
    if contact.ended_at is None or contact.ended_at < now:
        contact.ended_at = now
        contact.updated_at = now
    return contact


@dataclass(frozen=True)
class NewContact:
    """A contact staff log by hand (an email, a walk-in, ...), or the system logs."""

    channel: str
    agent: str | None
    started_at: datetime
    ended_at: datetime | None = None
    department: str | None = None
    request_ids: Sequence[int] = ()
    anonymous_requests: int = 0
    direction: str = "inbound"
    call_sid: str | None = None
    phone: str | None = None


def log_contact(session: Session, keyring: Keyring, new: NewContact, *, now: datetime) -> Contact:
    """Add a contact. InvalidField for an unknown channel or times that run backwards."""
    if new.channel not in CHANNELS:
        raise InvalidField("channel", f"is one of {', '.join(CHANNELS)}")
    if new.ended_at is not None and new.ended_at < new.started_at:
        raise InvalidField("ended_at", "is before started_at")
    contact = Contact(
        public_id=new_public_id(),
        channel=new.channel,
        direction=new.direction,
        call_sid=new.call_sid,
        agent=new.agent,
        department=new.department,
        started_at=new.started_at,
        ended_at=new.ended_at,
        anonymous_requests=new.anonymous_requests,
        created_at=now,
        updated_at=now,
    )
    if new.phone is not None:
        contact.phone_index = keyring.blind_index("phone", new.phone)
        contact.phone_sealed = keyring.seal(new.phone, _place("phone", contact))
    contact.requests = [ContactRequest(request_id=request_id) for request_id in new.request_ids]
    session.add(contact)
    session.flush()
    return contact


@dataclass(frozen=True)
class WrapUp:
    topics: Sequence[str]
    resolution: str
    request_ids: Sequence[str] = ()
    transferred_to: str | None = None
    notes: str | None = None


@dataclass
class WrapUpResult:
    linked: list[str] = field(default_factory=list)  # public ids of the named requests
    anonymous: int = 0
    topics: list[str] = field(default_factory=list)


def _filed_requests(session: Session, public_ids: Sequence[str]) -> list[ServiceRequest]:
    wanted = list(dict.fromkeys(public_ids))
    if not wanted:
        return []
    found = {
        request.public_id: request
        for request in session.scalars(
            select(ServiceRequest).where(ServiceRequest.public_id.in_(wanted))
        )
    }
    missing = [index for index, name in enumerate(wanted) if name not in found]
    if missing:
        raise InvalidField(f"request_ids.{missing[0]}", "is not a service request")
    return [found[name] for name in wanted]


def wrap_up(
    session: Session, keyring: Keyring, contact: Contact, wrap: WrapUp, *, now: datetime
) -> WrapUpResult:
    """Record why the person called and how it ended (a second wrap-up corrects the
    first; after-contact work is counted to the first). Refuses (InvalidField) unknown
    topics or requests, SSN-like text, a transfer without its destination, and a filed
    request without its number."""
    if wrap.resolution not in RESOLUTIONS:
        raise InvalidField("resolution", f"is one of {', '.join(RESOLUTIONS)}")
    codes = list(dict.fromkeys(code.strip().lower() for code in wrap.topics))
    if len(codes) > MAX_TOPICS:
        raise InvalidField("topics", f"at most {MAX_TOPICS} topics")
    known = known_topics(session, codes)
    unknown = [index for index, code in enumerate(codes) if code not in known]
    if unknown:
        raise InvalidField(f"topics.{unknown[0]}", "is not a knowledge-base code")
    transferred_to = (wrap.transferred_to or "").strip() or None
    if wrap.resolution in ("transferred", "referred") and transferred_to is None:
        raise InvalidField("transferred_to", "says where the caller was sent")
    ssn.refuse("transferred_to", transferred_to)
    ssn.refuse("notes", wrap.notes)
    if wrap.resolution == "request_filed" and not wrap.request_ids:
        raise InvalidField("request_ids", "names the request filed")
    requests = _filed_requests(session, wrap.request_ids)
    named = [request for request in requests if not request.anonymous]
    anonymous = len(requests) - len(named)

    contact.resolution = wrap.resolution
    contact.transferred_to = transferred_to
    contact.anonymous_requests = anonymous
    contact.notes_sealed = (
        keyring.seal(wrap.notes.strip(), _place("notes", contact))
        if wrap.notes and wrap.notes.strip()
        else None
    )
    if contact.wrapped_up_at is None:
        contact.wrapped_up_at = now
    else:  # a correction replaces what the first wrap-up recorded
        session.execute(delete(ContactRequest).where(ContactRequest.contact_id == contact.id))
        session.execute(delete(ContactTopic).where(ContactTopic.contact_id == contact.id))
    if contact.ended_at is None and contact.channel not in ("phone",):
        contact.ended_at = now
    contact.updated_at = now
    kind = kind_of(wrap.resolution)
    session.add_all(
        [ContactRequest(contact_id=contact.id, request_id=request.id) for request in named]
        + [
            ContactTopic(contact_id=contact.id, code=code, started_at=contact.started_at, kind=kind)
            for code in codes
        ]
    )
    session.flush()
    return WrapUpResult(
        linked=[request.public_id for request in named], anonymous=anonymous, topics=codes
    )


def end_wrap_up(session: Session, *, agent: str | None, now: datetime) -> None:
    """The agent wrapped their contact up: out of wrap-up, available again."""
    if agent is None:
        return
    session.execute(
        update(StaffUser)
        .where(StaffUser.username == agent, StaffUser.presence == "wrap_up")
        .values(presence="available", presence_since=now, updated_at=now)
    )


def serving_in_person(session: Session, *, agent: str, now: datetime) -> None:
    """An available agent who starts serving someone at the counter is busy: no call is
    offered to them meanwhile (someone away or on a call keeps their status)."""
    session.execute(
        update(StaffUser)
        .where(StaffUser.username == agent, StaffUser.presence == "available")
        .values(presence="busy", presence_since=now, updated_at=now)
    )


def served_in_person(session: Session, *, agent: str | None, now: datetime) -> None:
    """The person at the counter is wrapped up: the agent is available again, unless
    they are on a call meanwhile."""
    if agent is None:
        return
    on_a_call = session.scalar(
        select(Contact.id)
        .where(Contact.agent == agent, Contact.channel == "phone", Contact.ended_at.is_(None))
        .limit(1)
    )
    if on_a_call is None:
        session.execute(
            update(StaffUser)
            .where(StaffUser.username == agent, StaffUser.presence == "busy")
            .values(presence="available", presence_since=now, updated_at=now)
        )


def notes_of(keyring: Keyring, contact: Contact) -> str | None:
    if contact.notes_sealed is None:
        return None
    return keyring.open(contact.notes_sealed, _place("notes", contact))


def phone_of(keyring: Keyring, contact: Contact) -> str | None:
    """The number of an SMS conversation (or a contact logged with one)."""
    if contact.phone_sealed is None:
        return None
    return keyring.open(contact.phone_sealed, _place("phone", contact))


def request_public_ids(session: Session, contacts: Sequence[Contact]) -> dict[int, list[str]]:
    """The public ids of the requests linked to each contact, by contact row id."""
    ids = [contact.id for contact in contacts]
    if not ids:
        return {}
    found: dict[int, list[str]] = {contact_id: [] for contact_id in ids}
    rows = session.execute(
        select(ContactRequest.contact_id, ServiceRequest.public_id)
        .join(ServiceRequest, ServiceRequest.id == ContactRequest.request_id)
        .where(ContactRequest.contact_id.in_(ids))
        .order_by(ContactRequest.id)
    )
    for contact_id, name in rows:
        found[contact_id].append(name)
    return found


def search_contacts(
    session: Session,
    *,
    call_sid: str | None = None,
    agent: str | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = MAX_SEARCH_RESULTS,
) -> list[Contact]:
    """Contacts newest first: of a call (the caller's leg finds its agent's contact too),
    of an agent, in a period."""
    query = select(Contact).options(selectinload(Contact.topics))
    if call_sid is not None:
        legs = select(Call.call_sid).where(Call.parent_call_sid == call_sid)
        query = query.where((Contact.call_sid == call_sid) | Contact.call_sid.in_(legs))
    if agent is not None:
        query = query.where(Contact.agent == agent.strip().lower())
    if request_id is not None:
        filed = (
            select(ContactRequest.contact_id)
            .join(ServiceRequest, ServiceRequest.id == ContactRequest.request_id)
            .where(ServiceRequest.public_id == request_id)
        )
        query = query.where(Contact.id.in_(filed))
    query = in_period(query, Contact.started_at, since, until)
    return list(session.scalars(query.order_by(Contact.started_at.desc()).limit(limit)))


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


# -- the agent's leg of a call ---------------------------------------------------------


def record_agent_leg(
    session: Session, *, leg_sid: str, to_raw: str | None, region: str, now: datetime
) -> str | None:
    """After a dialled leg's progress was stored: when its To is a staff member's
    destination and it was answered, it is theirs. The leg and the caller's leg name
    them as ``agent``, their contact opens (once), the call's recordings name them, and
    their presence follows the leg: busy while it lasts, wrap-up when it ends (until
    they wrap the contact up). Returns their username, or None."""
    leg = session.scalar(select(Call).where(Call.call_sid == leg_sid))
    # A dialled leg, or a callback's first leg (Twilio rings the agent, then the caller).
    if leg is None or (leg.parent_call_sid is None and leg.direction != "outbound-api"):
        return None
    answered = answered_time(leg.answered_at, leg.ended_at, leg.status, leg.duration_seconds)
    if answered is None:
        return None
    person = staff_at(session, to_raw, region)
    if person is None:
        return None
    name = person.username
    sids = [sid for sid in (leg_sid, leg.parent_call_sid) if sid is not None]
    session.execute(
        update(Call)
        .where(Call.call_sid.in_(sids), Call.agent.is_(None))
        .values(agent=name, updated_at=now)
    )
    session.execute(
        update(Recording)
        .where(Recording.call_sid.in_(sids), Recording.agent_id.is_(None))
        .values(agent_id=person.id, updated_at=now)
    )
    contact = open_phone_contact(
        session,
        call_sid=leg_sid,
        agent=name,
        department=leg.extension,
        started_at=answered,
        now=now,
        direction="outbound" if leg.direction == "outbound-api" else "inbound",
    )
    if leg.ended_at is not None:
        if leg.parent_call_sid is not None:  # the offer is over even if the dial's end is late
            session.execute(
                update(CallOffer)
                .where(
                    CallOffer.call_sid == leg.parent_call_sid,
                    CallOffer.user_id == person.id,
                    CallOffer.ended_at.is_(None),
                )
                .values(ended_at=leg.ended_at, outcome="completed")
            )
        if contact.ended_at is None:
            contact.ended_at = leg.ended_at
            contact.updated_at = now
        if contact.wrapped_up_at is None and person.presence in ("busy", "available"):
            person.presence, person.presence_since, person.updated_at = "wrap_up", now, now
    elif person.presence in ("available", "wrap_up") and contact.wrapped_up_at is None:
        person.presence, person.presence_since, person.updated_at = "busy", now, now
    return name


# -- callbacks -------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackTarget:
    """Whom a callback rings (the agent's destination) and reaches (the caller's number,
    from the sealed record), and what it concerns."""

    agent_destination: str
    caller: str
    request_row_ids: tuple[int, ...] = ()
    department: str | None = None


def _request_number(keyring: Keyring, request: ServiceRequest) -> str | None:
    view = contact_view(keyring, request)
    return None if view is None else view.phone


def unended_callback(session: Session, agent: str, *, since: datetime) -> Contact | None:
    """The agent's callback placed after ``since`` whose call has not ended, if any."""
    return session.scalar(
        select(Contact)
        .join(Call, Call.call_sid == Contact.call_sid)
        .where(
            Contact.agent == agent,
            Contact.direction == "outbound",
            Contact.started_at > since,
            Call.status.not_in(TERMINAL_STATUSES),
        )
        .order_by(Contact.started_at.desc())
        .limit(1)
    )


def callback_number_for_request(
    session: Session, keyring: Keyring, request_id: str
) -> tuple[ServiceRequest, str]:
    """The number to call back about a request: its contact's. NotFound for no such
    request; a conflict for an anonymous one (the city promised not to make contact);
    InvalidField when no number was given."""
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.public_id == request_id))
    if request is None:
        raise NotFound("service request")
    if request.anonymous:
        raise Problem(409, "Conflict", "An anonymous request keeps no way to reach the caller.")
    number = _request_number(keyring, request)
    if number is None:
        raise InvalidField("request_id", "has no phone number on record")
    return request, number


def callback_number_for_contact(session: Session, keyring: Keyring, contact: Contact) -> str:
    """The number to call back after a contact: its conversation's, else the caller's on
    its call, else that of a request filed on it. A conflict when the caller withheld
    their number; InvalidField when there is none."""
    number = phone_of(keyring, contact)
    if number is not None:
        return number
    if contact.call_sid is not None:
        leg = session.scalar(select(Call).where(Call.call_sid == contact.call_sid))
        caller_leg = leg
        if leg is not None and leg.parent_call_sid is not None:
            caller_leg = session.scalar(select(Call).where(Call.call_sid == leg.parent_call_sid))
        if caller_leg is not None and contact.direction == "inbound":
            if caller_leg.caller_withheld:
                raise Problem(409, "Conflict", "The caller withheld their number.")
            number = party_number(keyring, caller_leg, "from")
            if number is not None:
                return number
    for link in contact.requests:
        request = session.get(ServiceRequest, link.request_id)
        if request is not None and not request.anonymous:
            number = _request_number(keyring, request)
            if number is not None:
                return number
    raise InvalidField("contact_id", "has no phone number on record")
