"""The disclosure log, one function per use case of the privacy officer: each opens its
unit of work and leaves its audit entry (also when a disclosure is not found or one is
refused). The staff API calls these.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from services.disclosures import public_records
from services.disclosures import service as disclosures
from services.disclosures.models import Disclosure
from services.disclosures.schemas import (
    DisclosureFilters,
    DisclosureOut,
    DisclosurePage,
    ExportQuery,
    RecordOut,
    StaffRef,
)
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import existing
from services.platform.resources import resource
from services.reports.service import DateRange, local_midnight
from services.staff import service as accounts

DISCLOSURE = "disclosure"


def _out(context: AppContext, disclosure: Disclosure, names: dict[int, str]) -> DisclosureOut:
    records = [RecordOut(**record) for record in disclosure.records]
    tz = context.city_tz

    def ref(user_id: int | None) -> StaffRef:
        return StaffRef(id=user_id, username=names.get(user_id) if user_id else None)

    return resource(
        DisclosureOut,
        disclosure,
        id=disclosure.public_id,
        disclosed_at=disclosure.disclosed_at.astimezone(tz),
        records=records,
        record_count=sum(record.count if record.count is not None else 1 for record in records),
        approved_by=ref(disclosure.approved_by_id),
        recorded_by=ref(disclosure.recorded_by_id),
        created_at=disclosure.created_at.astimezone(tz),
    )


def _outs(context: AppContext, session: Session, found: list[Disclosure]) -> list[DisclosureOut]:
    """Disclosures with the names of the staff who approved and recorded them."""
    staff_ids = {
        user_id
        for disclosure in found
        for user_id in (disclosure.approved_by_id, disclosure.recorded_by_id)
        if user_id is not None
    }
    names = accounts.usernames(session, staff_ids)
    return [_out(context, disclosure, names) for disclosure in found]


def record_disclosure(
    context: AppContext, actor: Actor, new: disclosures.NewDisclosure
) -> DisclosureOut:
    """Log a disclosure: who asked, on what legal basis, what and which records, who
    approved. The records must exist; the approver must hold the disclosure permission."""
    with unit_of_work(context, actor, "disclosure.create", object_type=DISCLOSURE) as work:
        disclosure = disclosures.record_disclosure(
            work.session, new, recorded_by=actor.user_id, now=work.now
        )
        work.object_id = disclosure.public_id
        work.note(
            legal_basis=disclosure.legal_basis,
            records=len(disclosure.records),
            approved_by_id=disclosure.approved_by_id,
        )
        [out] = _outs(context, work.session, [disclosure])
        return out


def list_disclosures(
    context: AppContext, actor: Actor, filters: DisclosureFilters
) -> DisclosurePage:
    """The disclosure log, newest first, by legal basis and local dates, a page at a time."""
    tz = context.city_tz
    query = disclosures.DisclosureFilter(
        legal_basis=filters.legal_basis,
        since=local_midnight(filters.start, tz) if filters.start else None,
        until=local_midnight(filters.end + timedelta(days=1), tz) if filters.end else None,
        before_id=filters.before,
        limit=filters.limit,
    )
    with unit_of_work(context, actor, "disclosure.list", object_type=DISCLOSURE) as work:
        work.note(legal_basis=filters.legal_basis.value if filters.legal_basis else None)
        found = disclosures.list_disclosures(work.session, query)
        work.note(results=len(found))
        return DisclosurePage(
            items=_outs(context, work.session, found),
            next_before=found[-1].id if len(found) == filters.limit else None,
        )


def read_disclosure(context: AppContext, actor: Actor, public_id: str) -> DisclosureOut:
    """One entry of the disclosure log."""
    with unit_of_work(
        context, actor, "disclosure.view", object_type=DISCLOSURE, object_id=public_id
    ) as work:
        disclosure = existing(disclosures.get_disclosure(work.session, public_id), "disclosure")
        [out] = _outs(context, work.session, [disclosure])
        return out


def export_public_records(
    context: AppContext, actor: Actor, query: ExportQuery
) -> public_records.Export:
    """Service requests filed on local dates ``start`` to ``end`` for a public-records
    request, without names, numbers, emails, home addresses, descriptions or street
    numbers. Logged as a disclosure and audited before the first row is read; the rows
    then stream in short reads of their own."""
    tz = context.city_tz
    with unit_of_work(context, actor, "disclosure.public_records", object_type=DISCLOSURE) as work:
        work.note(start=query.start.isoformat(), end=query.end.isoformat(), format=query.format)
        start, end = DateRange.checked(query.start, query.end).utc_bounds(tz)
        covered = public_records.snapshot(work.session, start, end)
        disclosure = disclosures.record_export(
            work.session,
            description=(
                f"Public-records export of service requests filed {query.start} to "
                f"{query.end}: {covered.count} requests, without contact details, "
                "descriptions or street numbers."
            ),
            reference=query.reference,
            count=covered.count,
            by=actor.user_id,
            now=work.now,
        )
        disclosure_id = disclosure.public_id
        work.object_id = disclosure_id
        work.note(requests=covered.count)
    rows = public_records.rows(context.db, covered, tz)
    if query.format == "csv":
        return public_records.Export(
            disclosure_id=disclosure_id,
            media_type="text/csv; charset=utf-8",
            chunks=public_records.csv_lines(rows),
            download_name=f"public-records-{query.start}-{query.end}.csv",
        )
    head = {
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "disclosure": disclosure_id,
        "count": covered.count,
    }
    return public_records.Export(
        disclosure_id=disclosure_id,
        media_type="application/json",
        chunks=public_records.json_lines(head, rows),
    )
