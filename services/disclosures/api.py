"""Staff API for the disclosure log and the public-records export (privacy officer)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.disclosures import public_records
from services.disclosures import service as disclosures
from services.disclosures.models import Disclosure
from services.disclosures.service import LegalBasis, RecordType
from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import AppContext, ContextDep
from services.platform.errors import NotFound
from services.platform.params import MAX_ROW_ID
from services.reports.service import DateRange, local_midnight
from services.staff import service as accounts

router = APIRouter(prefix="/api/disclosures", tags=["disclosures"])
DisclosureId = Annotated[str, Path(pattern=r"^DC-[0-9A-Z]{5}-[0-9A-Z]{5}$")]
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._/#:-]*$"


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: RecordType
    id: str = Field(
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9-]+$",
        description="A request's public id (SR-…), a CallSid or a RecordingSid.",
    )


class DisclosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requested_by: str = Field(
        min_length=1, max_length=200, description="The agency, court or person who asked."
    )
    legal_basis: LegalBasis
    reference: str | None = Field(
        default=None, max_length=120, description="Case, order or request number."
    )
    description: str = Field(min_length=1, max_length=4000, description="What was disclosed.")
    records: list[RecordIn] = Field(default_factory=list, max_length=disclosures.MAX_RECORDS)
    approved_by: str = Field(
        min_length=1,
        max_length=64,
        description="Username of the approver, who must hold the disclosure permission.",
    )
    disclosed_at: AwareDatetime | None = Field(
        default=None, description="When the records were handed over; now when left out."
    )


class RecordOut(BaseModel):
    type: str
    id: str | None = None
    count: int | None = Field(default=None, description="For an export: how many requests.")


class StaffRef(BaseModel):
    id: int | None
    username: str | None


class DisclosureOut(BaseModel):
    id: str
    disclosed_at: datetime
    requested_by: str
    legal_basis: str
    reference: str | None
    description: str
    records: list[RecordOut]
    record_count: int
    approved_by: StaffRef
    recorded_by: StaffRef
    created_at: datetime


class DisclosureFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_basis: LegalBasis | None = None
    start: date | None = Field(default=None, description="Disclosed on or after (local date).")
    end: date | None = Field(default=None, description="Disclosed on or before (local date).")
    before: int | None = Field(
        default=None, ge=1, le=MAX_ROW_ID, description="``next_before`` of the previous page."
    )
    limit: int = Field(default=50, ge=1, le=200)


class DisclosurePage(BaseModel):
    items: list[DisclosureOut]
    next_before: int | None


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date = Field(description="First local date of filing, included.")
    end: date = Field(description="Last local date of filing, included (at most 366 days).")
    format: Literal["json", "csv"] = "json"
    reference: str | None = Field(
        default=None,
        max_length=120,
        pattern=REFERENCE_PATTERN,
        description="The public-records request's number (no names).",
    )


def _out(context: AppContext, disclosure: Disclosure, names: dict[int, str]) -> DisclosureOut:
    records = [RecordOut(**record) for record in disclosure.records]
    tz = context.city_tz

    def ref(user_id: int | None) -> StaffRef:
        return StaffRef(id=user_id, username=names.get(user_id) if user_id else None)

    return DisclosureOut(
        id=disclosure.public_id,
        disclosed_at=disclosure.disclosed_at.astimezone(tz),
        requested_by=disclosure.requested_by,
        legal_basis=disclosure.legal_basis,
        reference=disclosure.reference,
        description=disclosure.description,
        records=records,
        record_count=sum(record.count if record.count is not None else 1 for record in records),
        approved_by=ref(disclosure.approved_by_id),
        recorded_by=ref(disclosure.recorded_by_id),
        created_at=disclosure.created_at.astimezone(tz),
    )


def _staff_ids(found: list[Disclosure]) -> set[int]:
    return {
        user_id
        for disclosure in found
        for user_id in (disclosure.approved_by_id, disclosure.recorded_by_id)
        if user_id is not None
    }


@router.post("", status_code=201, response_model=DisclosureOut)
def record_disclosure(
    body: DisclosureIn,
    staff: Annotated[Staff, Depends(require(Permission.DISCLOSURES))],
    context: ContextDep,
) -> DisclosureOut:
    """Log a disclosure: who asked, on what legal basis, what and which records, who
    approved. The records must exist; the approver must hold the disclosure permission."""
    now = context.clock.now()
    new = disclosures.NewDisclosure(
        requested_by=body.requested_by,
        legal_basis=body.legal_basis,
        reference=body.reference,
        description=body.description,
        records=[disclosures.RecordRef(record.type, record.id) for record in body.records],
        approved_by=body.approved_by,
        disclosed_at=body.disclosed_at,
    )
    with context.db.begin() as session:
        disclosure = disclosures.record_disclosure(session, new, recorded_by=staff.user_id, now=now)
        audit.record(
            session,
            actor=staff.actor,
            action="disclosure.create",
            at=now,
            object_type="disclosure",
            object_id=disclosure.public_id,
            detail={
                "legal_basis": disclosure.legal_basis,
                "records": len(disclosure.records),
                "approved_by_id": disclosure.approved_by_id,
            },
        )
        return _out(context, disclosure, accounts.usernames(session, _staff_ids([disclosure])))


@router.get("", response_model=DisclosurePage)
def list_disclosures(
    staff: Annotated[Staff, Depends(require(Permission.DISCLOSURES))],
    context: ContextDep,
    filters: Annotated[DisclosureFilters, Query()],
) -> DisclosurePage:
    """The disclosure log, newest first, by legal basis and local dates; pass
    ``next_before`` back as ``before`` for the next page."""
    tz = context.city_tz
    query = disclosures.DisclosureFilter(
        legal_basis=filters.legal_basis,
        since=local_midnight(filters.start, tz) if filters.start else None,
        until=local_midnight(filters.end + timedelta(days=1), tz) if filters.end else None,
        before_id=filters.before,
        limit=filters.limit,
    )
    with context.db.begin() as session:
        found = disclosures.list_disclosures(session, query)
        names = accounts.usernames(session, _staff_ids(found))
        page = DisclosurePage(
            items=[_out(context, disclosure, names) for disclosure in found],
            next_before=found[-1].id if len(found) == filters.limit else None,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="disclosure.list",
            at=context.clock.now(),
            object_type="disclosure",
            detail={
                "legal_basis": filters.legal_basis.value if filters.legal_basis else None,
                "results": len(found),
            },
        )
    return page


def _json_lines(head: dict[str, Any], rows: Iterator[dict[str, object]]) -> Iterator[bytes]:
    yield (json.dumps(head)[:-1] + ', "rows": [').encode()
    for number, row in enumerate(rows):
        yield (("," if number else "") + "\n" + json.dumps(row)).encode()
    yield b"\n]}\n"


def _csv_lines(rows: Iterator[dict[str, object]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=public_records.COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@router.get(
    "/public-records",
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
)
def public_records_export(
    staff: Annotated[Staff, Depends(require(Permission.DISCLOSURES))],
    context: ContextDep,
    query: Annotated[ExportQuery, Query()],
) -> StreamingResponse:
    """Service requests filed on local dates ``start`` to ``end`` for a public-records
    request: no names, numbers, emails, home addresses, descriptions or street numbers.
    The export is written to the disclosure log and audited before it is sent."""
    period = DateRange.checked(query.start, query.end)
    tz = context.city_tz
    start, end = period.utc_bounds(tz)
    now = context.clock.now()
    with context.db.begin() as session:
        covered = public_records.snapshot(session, start, end)
        disclosure = disclosures.record_export(
            session,
            description=(
                f"Public-records export of service requests filed {query.start} to "
                f"{query.end}: {covered.count} requests, without contact details, "
                "descriptions or street numbers."
            ),
            reference=query.reference,
            count=covered.count,
            by=staff.user_id,
            now=now,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="disclosure.public_records",
            at=now,
            object_type="disclosure",
            object_id=disclosure.public_id,
            detail={
                "start": query.start.isoformat(),
                "end": query.end.isoformat(),
                "format": query.format,
                "requests": covered.count,
            },
        )
        disclosure_id = disclosure.public_id
    rows = public_records.rows(context.db, covered, tz)
    name = f"public-records-{query.start}-{query.end}"
    headers = {"X-Disclosure-Id": disclosure_id}
    if query.format == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return StreamingResponse(
            _csv_lines(rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    head = {
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "disclosure": disclosure_id,
        "count": covered.count,
    }
    return StreamingResponse(
        _json_lines(head, rows), media_type="application/json", headers=headers
    )


@router.get("/{public_id}", response_model=DisclosureOut)
def read_disclosure(
    public_id: DisclosureId,
    staff: Annotated[Staff, Depends(require(Permission.DISCLOSURES))],
    context: ContextDep,
) -> DisclosureOut:
    """One entry of the disclosure log."""
    with context.db.begin() as session:
        disclosure = disclosures.get_disclosure(session, public_id)
        audit.record(
            session,
            actor=staff.actor,
            action="disclosure.view",
            at=context.clock.now(),
            outcome="ok" if disclosure is not None else "not_found",
            object_type="disclosure",
            object_id=public_id,
        )
        if disclosure is None:
            found = None
        else:
            found = _out(context, disclosure, accounts.usernames(session, _staff_ids([disclosure])))
    if found is None:
        raise NotFound("disclosure")
    return found
