"""What contacts hold about people: the notes an agent wrote (sealed), the number of an
SMS conversation (sealed, blind-indexed), where a caller was sent, and which of their
calls and (named) requests the contact concerns. A contact is found by the number it
came from (its call's or its conversation's) and by the requests filed on it; an
anonymous request is only counted on it, so nothing here leads to one."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.contacts.models import Contact, ContactRequest, ContactTopic
from services.contacts.service import notes_of, request_public_ids
from services.platform.personal_data import (
    CALLS,
    SERVICE_REQUESTS,
    ExportSection,
    Found,
    FreeText,
    Indexed,
    PersonalData,
    PurgeStep,
    RecordClass,
    Sweep,
    delete_rows,
    deleted,
    find_by_index,
    local_time,
    sealed_fields,
)
from services.requests.personal_data import purge_with_expired_requests
from storage.crypto import Keyring

CONTACTS = "contacts"  # Contact row ids


def _links(session: Session, found: Found) -> None:
    """A call reaches the contact its agent's leg opened; a request, the contact it was
    filed on; a contact, its call and the (named) requests filed on it."""
    found.link(session, CALLS, Contact.call_sid, CONTACTS, Contact.id)
    found.link(
        session, SERVICE_REQUESTS, ContactRequest.request_id, CONTACTS, ContactRequest.contact_id
    )
    found.link(session, CONTACTS, Contact.id, CALLS, Contact.call_sid)
    found.link(
        session, CONTACTS, ContactRequest.contact_id, SERVICE_REQUESTS, ContactRequest.request_id
    )


def _export(session: Session, keyring: Keyring, found: Found, tz: ZoneInfo) -> list[dict[str, Any]]:
    contacts = found.rows(session, CONTACTS, Contact.id, Contact.started_at, Contact.id)
    filed = request_public_ids(session, list(contacts))
    topics: dict[int, list[str]] = {contact.id: [] for contact in contacts}
    if contacts:
        rows = session.execute(
            select(ContactTopic.contact_id, ContactTopic.code)
            .where(ContactTopic.contact_id.in_(list(topics)))
            .order_by(ContactTopic.id)
        )
        for contact_id, code in rows:
            topics[contact_id].append(code)
    return [
        {
            "id": contact.public_id,
            "channel": contact.channel,
            "direction": contact.direction,
            "call_sid": contact.call_sid,
            "started_at": local_time(contact.started_at, tz),
            "ended_at": local_time(contact.ended_at, tz),
            "topics": topics[contact.id],
            "resolution": contact.resolution,
            "transferred_to": contact.transferred_to,
            "requests": filed.get(contact.id, []),
            "anonymous_requests": contact.anonymous_requests,
            "notes": notes_of(keyring, contact),
        }
        for contact in contacts
    ]


def _destroy(session: Session, ids: list[int]) -> int:
    session.execute(delete(ContactTopic).where(ContactTopic.contact_id.in_(ids)))
    session.execute(delete(ContactRequest).where(ContactRequest.contact_id.in_(ids)))
    return deleted(session.execute(delete(Contact).where(Contact.id.in_(ids))))


def _purge(sweep: Sweep) -> None:
    ended = func.coalesce(Contact.ended_at, Contact.started_at)
    sweep.walk(
        "contacts",
        select(Contact.id).where(ended < sweep.cutoff("contacts")),
        Contact.id,
        _destroy,
        keep=lambda row: row[0] in sweep.held[CONTACTS],
    )


def _unlink_expired_requests(sweep: Sweep) -> None:
    """A request that goes takes its link to the contact with it (the contact stays)."""
    purge_with_expired_requests(
        sweep,
        "contact_requests",
        ContactRequest.request_id,
        delete_rows(ContactRequest, ContactRequest.id),
        counted=False,
    )


PERSONAL_DATA = PersonalData(
    feature="contacts",
    sealed=sealed_fields(Contact, Contact.public_id, "notes", "phone", typed=("notes",)),
    indexes=(Indexed(Contact.phone_index, "phone"),),
    free_text=(FreeText(Contact.transferred_to, personal=True),),
    record_classes=(
        RecordClass(
            "contacts",
            "contacts: who handled them, topics, outcomes and notes",
            "the contact's end",
            3,
            "years",
        ),
    ),
    purge=(
        PurgeStep("contacts", 60, _purge),
        PurgeStep("service_requests", 68, _unlink_expired_requests),
    ),
    # SMS conversations from the person's number (calls reach their contacts by link).
    find=find_by_index(CONTACTS, Contact.id, Contact.phone_index, "phone"),
    links=_links,
    export=(
        ExportSection(
            "contacts",
            "Contacts with the city",
            15,
            _export,
            columns=(
                ("started_at", "When"),
                ("channel", "How"),
                ("topics", "About"),
                ("resolution", "Outcome"),
                ("transferred_to", "Sent to"),
                ("requests", "Requests filed"),
                ("notes", "Notes"),
            ),
        ),
    ),
)
