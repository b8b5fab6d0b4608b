"""The disclosure log: every disclosure of records outside the city, with its legal basis.

The policies allow disclosure without consent only for listed reasons; each entry names
one (``LegalBasis``), who asked, the case or order number, what was disclosed, the
records it covered (checked to exist) and who approved it: a staff account that itself
holds the disclosure permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.calls.models import Call
from services.disclosures.models import Disclosure
from services.platform import public_ids, ssn
from services.platform.auth import Permission, allows
from services.platform.errors import InvalidField
from services.platform.queries import in_period
from services.platform.roles import Role
from services.recordings.models import Recording
from services.requests.models import ServiceRequest
from services.staff.models import StaffUser

MAX_RECORDS = 500


class LegalBasis(StrEnum):
    """When the policy lets the city disclose personal information without consent."""

    STATUTORY_DUTY = "statutory_duty"
    PROGRAM_AUTHORIZED_BY_LAW = "program_authorized_by_law"
    STATE_AUTHORIZATION = "state_authorization"
    FEDERAL_STATUTE_OR_REGULATION = "federal_statute_or_regulation"
    COURT_ORDER_OR_LAW = "court_order_or_law"
    LAW_ENFORCEMENT = "law_enforcement"
    IDENTITY_VALIDATION = "identity_validation"
    STATISTICS_NON_IDENTIFYING = "statistics_non_identifying"
    PUBLIC_RECORDS_REQUEST = "public_records_request"
    TRAINING_VERIFICATION = "training_verification"


class RecordType(StrEnum):
    REQUEST = "request"  # a service request's public id (SR-…)
    CALL = "call"  # a CallSid
    RECORDING = "recording"  # a RecordingSid


_RECORD_COLUMNS: dict[RecordType, Any] = {
    RecordType.REQUEST: ServiceRequest.public_id,
    RecordType.CALL: Call.call_sid,
    RecordType.RECORDING: Recording.recording_sid,
}


@dataclass(frozen=True)
class RecordRef:
    type: RecordType
    id: str


@dataclass(frozen=True)
class NewDisclosure:
    requested_by: str
    legal_basis: LegalBasis
    reference: str | None
    description: str
    records: Sequence[RecordRef]
    approved_by: str  # a staff username
    disclosed_at: datetime | None = None  # when it happened; now when left out


def new_public_id() -> str:
    """A random disclosure number like DC-7K3MX-9Q2DA."""
    return public_ids.public_id("DC", 5, 5)


def approver(session: Session, username: str) -> StaffUser:
    """The active staff account named ``username`` that may approve disclosures.

    Raises InvalidField (approved_by) for an unknown, disabled or unauthorised account.
    """
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or user.disabled_at is not None:
        raise InvalidField("approved_by", "is not an active staff account")
    try:
        role = Role(user.role)
    except ValueError:
        role = None
    if role is None or not allows(role, Permission.DISCLOSURES):
        raise InvalidField("approved_by", "does not hold the permission to approve disclosures")
    return user


def check_records(session: Session, records: Sequence[RecordRef]) -> None:
    """InvalidField naming the first record (``records[i].id``) that does not exist."""
    for kind, column in _RECORD_COLUMNS.items():
        wanted = {ref.id for ref in records if ref.type == kind}
        if not wanted:
            continue
        found = set(session.scalars(select(column).where(column.in_(sorted(wanted)))))
        for position, ref in enumerate(records):
            if ref.type == kind and ref.id not in found:
                raise InvalidField(f"records.{position}.id", f"is not a {kind.value} on file")


def record_disclosure(
    session: Session, new: NewDisclosure, *, recorded_by: int | None, now: datetime
) -> Disclosure:
    """Log a disclosure. Refuses (422, naming the field) SSN-like numbers in the text,
    records that do not exist, a disclosure dated in the future, and an approver who may
    not approve."""
    for name in ("requested_by", "reference", "description"):
        ssn.refuse(name, getattr(new, name))
    if new.disclosed_at is not None and new.disclosed_at > now:
        raise InvalidField("disclosed_at", "may not be in the future")
    approved_by = approver(session, new.approved_by)
    unique = list(dict.fromkeys(new.records))
    check_records(session, unique)
    disclosure = Disclosure(
        public_id=new_public_id(),
        disclosed_at=new.disclosed_at or now,
        requested_by=new.requested_by.strip(),
        legal_basis=new.legal_basis.value,
        reference=(new.reference or "").strip() or None,
        description=new.description.strip(),
        records=[{"type": ref.type.value, "id": ref.id} for ref in unique],
        approved_by_id=approved_by.id,
        recorded_by_id=recorded_by,
        created_at=now,
    )
    session.add(disclosure)
    session.flush()
    return disclosure


def record_export(
    session: Session,
    *,
    description: str,
    reference: str | None,
    count: int,
    by: int | None,
    now: datetime,
) -> Disclosure:
    """Log a public-records export: the count of requests only, not each one."""
    disclosure = Disclosure(
        public_id=new_public_id(),
        disclosed_at=now,
        requested_by="Public-records request (export)",
        legal_basis=LegalBasis.PUBLIC_RECORDS_REQUEST.value,
        reference=reference,
        description=description,
        records=[{"type": RecordType.REQUEST.value, "count": count}],
        approved_by_id=by,
        recorded_by_id=by,
        created_at=now,
    )
    session.add(disclosure)
    session.flush()
    return disclosure


def get_disclosure(session: Session, public_id: str) -> Disclosure | None:
    return session.scalar(select(Disclosure).where(Disclosure.public_id == public_id))


@dataclass(frozen=True)
class DisclosureFilter:
    legal_basis: LegalBasis | None = None
    since: datetime | None = None  # disclosed at or after
    until: datetime | None = None  # disclosed before
    before_id: int | None = None  # keyset paging: rows older than this one
    limit: int = 50


def list_disclosures(session: Session, query: DisclosureFilter) -> list[Disclosure]:
    """Disclosures, newest first."""
    statement = select(Disclosure).order_by(Disclosure.id.desc()).limit(query.limit)
    if query.legal_basis is not None:
        statement = statement.where(Disclosure.legal_basis == query.legal_basis.value)
    statement = in_period(statement, Disclosure.disclosed_at, query.since, query.until)
    if query.before_id is not None:
        statement = statement.where(Disclosure.id < query.before_id)
    return list(session.scalars(statement))
