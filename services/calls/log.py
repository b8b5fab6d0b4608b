"""The call log as supervisors read it: one row per call, not one per leg.

A call is the leg with no parent (the caller's leg of an inbound call, or the first leg
of a callback); the legs a <Dial> makes hang under it by ``parent_call_sid``. Each row
names the agent who answered (copied onto the caller's leg when their leg answers) and
gathers what hangs off any of the call's legs: recordings, contacts (opened on the
agent's leg) and the requests filed from the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.calls.models import Call
from services.calls.service import CallFilter, filtered_calls, party_number
from services.contacts.models import Contact, ContactRequest, ContactTopic
from services.knowledge import service as knowledge
from services.platform.queries import in_period
from services.recordings.models import Recording
from services.requests.models import RequestCall, ServiceRequest
from storage.crypto import Keyring

MAX_SEARCH_RESULTS = 200


@dataclass(frozen=True)
class ContactLine:
    id: str
    agent: str | None
    resolution: str | None
    topics: tuple[str, ...]
    topic_titles: tuple[str, ...]  # the topics by their knowledge-base titles, in order


@dataclass
class CallLinks:
    """What hangs off one call's legs."""

    taker_answered_at: datetime | None = None
    recordings: list[str] = field(default_factory=list)
    contacts: list[ContactLine] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def list_calls(session: Session, query: CallFilter) -> list[Call]:
    """Calls (not legs) newest first, by row so that paging with ``before_id`` is stable."""
    return filtered_calls(session, select(Call).where(Call.parent_call_sid.is_(None)), query)


def search_calls(
    session: Session,
    keyring: Keyring,
    *,
    phone_e164: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = MAX_SEARCH_RESULTS,
) -> list[Call]:
    """Calls from (or, for a callback, to) ``phone_e164``, newest first: candidates by the
    blind index, each confirmed by opening the sealed number. A match on a dialled leg
    stands for its call."""
    index = keyring.blind_index("phone", phone_e164)
    legs = in_period(
        select(Call).where(or_(Call.from_index == index, Call.to_index == index)),
        Call.started_at,
        since,
        until,
    ).limit(limit * 2)
    wanted: list[str] = []
    for leg in session.scalars(legs):
        if phone_e164 not in (party_number(keyring, leg, "from"), party_number(keyring, leg, "to")):
            continue
        wanted.append(leg.parent_call_sid or leg.call_sid)
    if not wanted:
        return []
    found = session.scalars(
        select(Call)
        .where(Call.call_sid.in_(sorted(set(wanted))), Call.parent_call_sid.is_(None))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return list(found)


def links_of(session: Session, calls: Sequence[Call]) -> dict[str, CallLinks]:
    """For each call (by CallSid): when a taker's leg answered, and the recordings,
    contacts and requests of any of its legs. A few set-wise queries for the page."""
    links = {call.call_sid: CallLinks() for call in calls}
    if not links:
        return links
    owner = {sid: sid for sid in links}
    for leg in session.execute(
        select(Call.call_sid, Call.parent_call_sid, Call.answered_at).where(
            Call.parent_call_sid.in_(sorted(links))
        )
    ):
        owner[leg.call_sid] = leg.parent_call_sid
        record = links[leg.parent_call_sid]
        if leg.answered_at is not None and (
            record.taker_answered_at is None or leg.answered_at < record.taker_answered_at
        ):
            record.taker_answered_at = leg.answered_at
    sids = sorted(owner)
    for sid, recording_sid in session.execute(
        select(Recording.call_sid, Recording.recording_sid)
        .where(Recording.call_sid.in_(sids))
        .order_by(Recording.started_at, Recording.id)
    ):
        links[owner[sid]].recordings.append(recording_sid)
    contacts = list(
        session.scalars(
            select(Contact).where(Contact.call_sid.in_(sids)).order_by(Contact.started_at)
        )
    )
    topics: dict[int, list[str]] = {}
    filed: dict[str, list[str]] = {sid: [] for sid in links}
    if contacts:
        ids = [contact.id for contact in contacts]
        for contact_id, code in session.execute(
            select(ContactTopic.contact_id, ContactTopic.code)
            .where(ContactTopic.contact_id.in_(ids))
            .order_by(ContactTopic.id)
        ):
            topics.setdefault(contact_id, []).append(code)
        by_contact = {contact.id: owner[contact.call_sid or ""] for contact in contacts}
        for contact_id, public_id in session.execute(
            select(ContactRequest.contact_id, ServiceRequest.public_id)
            .join(ServiceRequest, ServiceRequest.id == ContactRequest.request_id)
            .where(ContactRequest.contact_id.in_(ids))
            .order_by(ContactRequest.id)
        ):
            filed[by_contact[contact_id]].append(public_id)
    titles = knowledge.titles_of(session, [code for codes in topics.values() for code in codes])
    for contact in contacts:
        codes = tuple(topics.get(contact.id, ()))
        links[owner[contact.call_sid or ""]].contacts.append(
            ContactLine(
                contact.public_id,
                contact.agent,
                contact.resolution,
                codes,
                tuple(titles.get(code, code) for code in codes),
            )
        )
    for sid, public_id in session.execute(
        select(RequestCall.call_sid, ServiceRequest.public_id)
        .join(ServiceRequest, ServiceRequest.id == RequestCall.request_id)
        .where(RequestCall.call_sid.in_(sids), ServiceRequest.anonymous.is_(False))
        .order_by(RequestCall.id)
    ):
        filed[owner[sid]].append(public_id)
    for sid, names in filed.items():
        links[sid].requests = list(dict.fromkeys(names))
    return links
