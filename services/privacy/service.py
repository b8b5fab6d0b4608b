"""Access-and-correction requests, from receipt to decision.

The policy: within 5 business days of receiving a proper request, the privacy officer
grants access, denies it in writing with reasons, or acknowledges it in writing with the
date of the decision, no more than 30 days after the acknowledgement. When access is
granted the person is told of their right to ask for amendment.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.platform import public_ids, ssn
from services.platform.errors import InvalidField, Problem, existing
from services.privacy.calendar import BusinessCalendar
from services.privacy.models import PrivacyRequest
from services.requests.service import SearchKey, normalised_term
from storage.crypto import FieldContext, Keyring

ANSWER_WITHIN_BUSINESS_DAYS = 5
DECIDE_WITHIN_DAYS = 30
CHANNELS = ("mail", "email", "in_person", "phone", "web")
KINDS = ("access", "correction")
OPEN = ("received", "acknowledged")


@dataclass(frozen=True)
class Requester:
    """Who asks, as they describe themselves: the keys their data is found by."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None

    def keys(self) -> list[SearchKey]:
        return [
            SearchKey(kind, value)
            for kind, value in asdict(self).items()
            if value is not None and value.strip()
        ]


@dataclass(frozen=True)
class NewPrivacyRequest:
    received_on: date
    channel: str
    kinds: tuple[str, ...]
    identity_evidence: str
    requester: Requester


def _place(request: PrivacyRequest) -> FieldContext:
    return FieldContext("privacy_requests", "requester", request.public_id)


def requester_of(keyring: Keyring, request: PrivacyRequest) -> Requester:
    return Requester(**json.loads(keyring.open(request.requester_sealed, _place(request))))


def record(
    session: Session,
    keyring: Keyring,
    new: NewPrivacyRequest,
    *,
    by: int | None,
    now: datetime,
    today: date,
    calendar: BusinessCalendar,
    region: str,
) -> PrivacyRequest:
    """Record a request as received; its answer is due 5 business days after receipt."""
    if new.channel not in CHANNELS:
        raise InvalidField("channel", f"must be one of {', '.join(CHANNELS)}")
    if not new.kinds or any(kind not in KINDS for kind in new.kinds):
        raise InvalidField("kinds", "must name access, correction or both")
    if new.received_on > today:
        raise InvalidField("received_on", "cannot be in the future")
    evidence = new.identity_evidence.strip()
    if len(evidence) < 5:
        raise InvalidField(
            "identity_evidence", "say what was checked (e.g. signature compared with file)"
        )
    ssn.refuse("identity_evidence", evidence)
    keys = new.requester.keys()
    if not keys:
        raise InvalidField("requester", "give at least one of name, phone, email, address")
    clean: dict[str, str] = {}
    for key in keys:
        ssn.refuse(f"requester.{key.kind}", key.value)
        normalised_term(key, region)  # refuses what no search could use
        clean[key.kind] = key.value.strip()
    request = PrivacyRequest(
        public_id=public_ids.public_id("PR", 8),
        received_on=new.received_on,
        channel=new.channel,
        kinds=sorted(set(new.kinds)),
        identity_evidence=evidence,
        requester_sealed=b"",
        status="received",
        respond_by=calendar.add_business_days(new.received_on, ANSWER_WITHIN_BUSINESS_DAYS),
        created_by_id=by,
        created_at=now,
        updated_at=now,
    )
    request.requester_sealed = keyring.seal(json.dumps(clean), _place(request))
    session.add(request)
    session.flush()
    return request


def get(session: Session, public_id: str) -> PrivacyRequest:
    found = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id))
    return existing(found, "privacy request")


def acknowledge(
    request: PrivacyRequest, *, on: date, decision_by: date | None, now: datetime
) -> PrivacyRequest:
    """Acknowledge in writing, naming the decision date (at most 30 days on)."""
    if request.status != "received":
        raise Problem(409, "Conflict", f"This request is already {request.status}.")
    latest = on + timedelta(days=DECIDE_WITHIN_DAYS)
    decision_by = decision_by or latest
    if decision_by < on or decision_by > latest:
        raise InvalidField(
            "decision_by", f"must be between {on.isoformat()} and {latest.isoformat()}"
        )
    request.status, request.acknowledged_on, request.decision_by = "acknowledged", on, decision_by
    request.updated_at = now
    return request


def decide(
    request: PrivacyRequest, *, granted: bool, reason: str | None, on: date, now: datetime
) -> PrivacyRequest:
    """Grant, or deny in writing with the reasons."""
    if request.status not in OPEN:
        raise Problem(409, "Conflict", f"This request is already {request.status}.")
    text = (reason or "").strip()
    if not granted and len(text) < 10:
        raise InvalidField("reason", "a denial states its reasons")
    ssn.refuse("reason", text)
    request.status = "granted" if granted else "denied"
    request.decided_on, request.decision_reason, request.updated_at = on, text or None, now
    return request


@dataclass(frozen=True)
class Deadline:
    kind: str  # "answer" (grant, deny or acknowledge) or "decision"
    due: date
    business_days_left: int
    overdue: bool


def deadline(
    request: PrivacyRequest, *, today: date, calendar: BusinessCalendar
) -> Deadline | None:
    """What is due next on an open request, and whether it is late."""
    if request.status == "received":
        kind, due = "answer", request.respond_by
    elif request.status == "acknowledged" and request.decision_by is not None:
        kind, due = "decision", request.decision_by
    else:
        return None
    return Deadline(kind, due, calendar.business_days_between(today, due), today > due)


def answered_on(request: PrivacyRequest) -> date | None:
    """When the person was first answered: acknowledged, or else decided."""
    return request.acknowledged_on or request.decided_on


def answered_late(request: PrivacyRequest, *, today: date) -> bool:
    """Whether the first answer missed its 5-business-day deadline: given after it, or
    not given and the deadline has passed. Once late, always late: acknowledging (or
    deciding) afterwards does not clear it."""
    answered = answered_on(request)
    return (answered if answered is not None else today) > request.respond_by


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def open_requests(session: Session) -> list[PrivacyRequest]:
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.status.in_(OPEN))
            .order_by(PrivacyRequest.respond_by, PrivacyRequest.id)
        )
    )


def all_requests(session: Session, *, limit: int = 500) -> list[PrivacyRequest]:
    return list(
        session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(limit))
    )
