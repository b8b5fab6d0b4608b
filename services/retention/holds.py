"""Legal holds: data under a hold is never purged until every hold on it is released.

A hold names a request, a call or a recording, or a person by one of the four search
keys (phone, email, name, home address). A person's hold is resolved when the purge
runs, through the same blind indexes agents search with, so it also covers what arrived
after the hold was placed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.calls.models import Call
from services.platform import public_ids, ssn
from services.platform.errors import InvalidField, Problem, existing
from services.platform.personal_data import (
    CALLS,
    RECORDINGS,
    SERVICE_REQUESTS,
    Found,
    PersonKey,
    Registry,
)
from services.recordings.models import Recording
from services.requests.models import ServiceRequest
from services.requests.service import SearchKey, normalised_term
from services.retention.models import LegalHold
from storage.crypto import FieldContext, Keyring

TARGETS = ("request", "call", "recording", "person")
PERSON_KEYS = ("phone", "email", "name", "address")


def _place(hold: LegalHold) -> FieldContext:
    return FieldContext("legal_holds", "person", hold.public_id)


@dataclass(frozen=True)
class NewHold:
    target_type: str
    reason: str
    target_ref: str | None = None
    person_kind: str | None = None
    person_value: str | None = None


def place_hold(
    session: Session,
    keyring: Keyring,
    new: NewHold,
    *,
    by: int | None,
    now: datetime,
    region: str,
) -> LegalHold:
    if new.target_type not in TARGETS:
        raise InvalidField("target_type", f"must be one of {', '.join(TARGETS)}")
    reason = new.reason.strip()
    if len(reason) < 3:
        raise InvalidField("reason", "say why the data must be kept")
    ssn.refuse("reason", reason)
    hold = LegalHold(
        public_id=public_ids.public_id("LH", 8),
        target_type=new.target_type,
        reason=reason,
        placed_by_id=by,
        placed_at=now,
    )
    if new.target_type == "person":
        if new.person_kind not in PERSON_KEYS or not (new.person_value or "").strip():
            raise InvalidField("person", f"give one of {', '.join(PERSON_KEYS)} and its value")
        term = normalised_term(SearchKey(new.person_kind, new.person_value or ""), region)
        hold.person_kind = new.person_kind
        hold.person_sealed = keyring.seal(term, _place(hold))
    else:
        ref = (new.target_ref or "").strip()
        if not ref:
            raise InvalidField("target_ref", "name the request, call or recording")
        column: Any = {
            "request": ServiceRequest.public_id,
            "call": Call.call_sid,
            "recording": Recording.recording_sid,
        }[new.target_type]
        if session.scalar(select(column).where(column == ref)) is None:
            raise InvalidField("target_ref", f"is not a {new.target_type} the city holds")
        hold.target_ref = ref
    session.add(hold)
    session.flush()
    return hold


def release_hold(
    session: Session, public_id: str, *, reason: str, by: int | None, now: datetime
) -> LegalHold:
    # Locked, so of two releases at once the second waits and finds the hold released.
    found = session.scalar(
        select(LegalHold).where(LegalHold.public_id == public_id).with_for_update()
    )
    hold = existing(found, "legal hold")
    if hold.released_at is not None:
        raise Problem(409, "Conflict", "This hold was already released.")
    ssn.refuse("reason", reason)
    hold.released_at, hold.released_by_id, hold.release_reason = now, by, reason.strip() or None
    session.flush()
    return hold


def active_holds(session: Session) -> list[LegalHold]:
    return list(
        session.scalars(
            select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)
        )
    )


def person_term(keyring: Keyring, hold: LegalHold) -> str:
    assert hold.person_sealed is not None
    return keyring.open(hold.person_sealed, _place(hold))


def resolve(session: Session, keyring: Keyring, registry: Registry) -> Found:
    """What every active hold protects, resolved once per purge run: the request, call
    or recording it names, or everything a person's key finds; and, through the
    registry's links, what those reach (a request's calls, appointments and texts, a
    call's other legs and recordings)."""
    held = Found()
    people: list[list[PersonKey]] = []
    for hold in active_holds(session):
        if hold.target_type == "request":
            held.add(
                SERVICE_REQUESTS,
                session.scalars(
                    select(ServiceRequest.id).where(ServiceRequest.public_id == hold.target_ref)
                ),
            )
        elif hold.target_type == "call" and hold.target_ref:
            held.add(CALLS, [hold.target_ref])
        elif hold.target_type == "recording" and hold.target_ref:
            held.add(RECORDINGS, [hold.target_ref])
        elif hold.target_type == "person" and hold.person_kind:
            people.append([PersonKey(hold.person_kind, person_term(keyring, hold))])
    return registry.reach(session, keyring, people=people, found=held)
