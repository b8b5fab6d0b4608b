"""Who is calling: the caller on a call and what the city already has from their number,
for the call taker's workspace. Their earlier requests, contacts (calls and texts
answered), appointments and texts, each newest first.

Every list is found by blind index and confirmed by decryption, so an index collision
never shows somebody else's record. A withheld number finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from services.appointments.models import Appointment
from services.appointments.service import phone_of as appointment_phone
from services.calls.models import Call
from services.calls.service import get_call, party_number, search_calls
from services.contacts.models import Contact
from services.contacts.service import phone_of as contact_phone
from services.messaging.models import InboundText, TextMessage
from services.messaging.service import inbound_sender, recipient
from services.requests.models import ServiceRequest, ServiceType
from services.requests.service import SearchKey, search_requests
from storage.crypto import Keyring

# The workspace shows the recent past; the request search and the call log hold the rest.
LIMIT = 20


@dataclass
class CallerHistory:
    call: Call
    number: str | None  # E.164; None when withheld or not a number
    contact: Contact | None  # this call's own contact (its answered leg's), if any
    requests: list[ServiceRequest] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    texts_sent: list[TextMessage] = field(default_factory=list)
    texts_received: list[InboundText] = field(default_factory=list)


def _contacts_of(session: Session, keyring: Keyring, number: str, call_sid: str) -> list[Contact]:
    """Contacts from this number: its calls' (the caller's leg or an agent's leg of it)
    and its text conversations, newest first, this call's own left out."""
    calls = [call.call_sid for call in search_calls(session, keyring, phone_e164=number, limit=50)]
    index = keyring.blind_index("phone", number)
    conditions = [Contact.phone_index == index]
    if calls:
        legs = select(Call.call_sid).where(Call.parent_call_sid.in_(calls))
        conditions += [Contact.call_sid.in_(calls), Contact.call_sid.in_(legs)]
    own_legs = select(Call.call_sid).where(Call.parent_call_sid == call_sid)
    query = (
        select(Contact)
        .options(selectinload(Contact.topics))
        .where(or_(*conditions))
        .where(or_(Contact.call_sid.is_(None), Contact.call_sid != call_sid))
        .where(or_(Contact.call_sid.is_(None), Contact.call_sid.not_in(own_legs)))
        .order_by(Contact.started_at.desc(), Contact.id.desc())
        .limit(LIMIT)
    )
    found = []
    for contact in session.scalars(query):
        # A text conversation found by the index is the caller's only if its number is.
        if contact.phone_index == index and contact_phone(keyring, contact) != number:
            continue
        found.append(contact)
    return found


def _appointments_of(
    session: Session, keyring: Keyring, number: str, requests: list[ServiceRequest]
) -> list[Appointment]:
    index = keyring.blind_index("phone", number)
    request_ids = [request.id for request in requests]
    query = select(Appointment).where(
        or_(Appointment.phone_index == index, Appointment.request_id.in_(request_ids))
        if request_ids
        else Appointment.phone_index == index
    )
    found = session.scalars(
        query.order_by(Appointment.created_at.desc(), Appointment.id.desc()).limit(LIMIT)
    )
    return [
        appointment
        for appointment in found
        if appointment.request_id in request_ids
        or appointment_phone(keyring, appointment) == number
    ]


def _texts_of(
    session: Session, keyring: Keyring, number: str
) -> tuple[list[TextMessage], list[InboundText]]:
    index = keyring.blind_index("phone", number)
    sent = session.scalars(
        select(TextMessage)
        .where(TextMessage.to_index == index)
        .order_by(TextMessage.created_at.desc(), TextMessage.id.desc())
        .limit(LIMIT)
    )
    received = session.scalars(
        select(InboundText)
        .where(InboundText.from_index == index)
        .order_by(InboundText.received_at.desc(), InboundText.id.desc())
        .limit(LIMIT)
    )
    return (
        [text for text in sent if recipient(keyring, text) == number],
        [text for text in received if inbound_sender(keyring, text) == number],
    )


def own_contact(session: Session, call_sid: str) -> Contact | None:
    """The contact of the call: the caller's leg's or, usually, its answered leg's."""
    legs = select(Call.call_sid).where(Call.parent_call_sid == call_sid)
    return session.scalar(
        select(Contact)
        .options(selectinload(Contact.topics))
        .where(or_(Contact.call_sid == call_sid, Contact.call_sid.in_(legs)))
        .order_by(Contact.started_at.desc())
        .limit(1)
    )


def caller_history(
    session: Session, keyring: Keyring, call_sid: str, *, region: str
) -> CallerHistory | None:
    """The caller on ``call_sid`` and what the city has from their number (None for no
    such call)."""
    call = get_call(session, call_sid)
    if call is None:
        return None
    number = None if call.caller_withheld else party_number(keyring, call, "from")
    history = CallerHistory(call=call, number=number, contact=own_contact(session, call_sid))
    if number is None:
        return history
    history.requests = search_requests(
        session, keyring, SearchKey("phone", number), region=region, limit=LIMIT
    )
    history.contacts = _contacts_of(session, keyring, number, call_sid)
    history.appointments = _appointments_of(session, keyring, number, history.requests)
    history.texts_sent, history.texts_received = _texts_of(session, keyring, number)
    return history


def service_names(session: Session, codes: set[str]) -> dict[str, str]:
    """Services by name (the catalogue's), for codes that requests were filed with."""
    if not codes:
        return {}
    rows = session.execute(
        select(ServiceType.code, ServiceType.name).where(ServiceType.code.in_(codes))
    )
    return {code: name for code, name in rows}
