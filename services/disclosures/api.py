"""Staff API for the disclosure log and the public-records export (privacy officer):
routes that parse, call the action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from services.disclosures import actions
from services.disclosures import service as disclosures
from services.disclosures.schemas import (
    DisclosureFilters,
    DisclosureIn,
    DisclosureOut,
    DisclosurePage,
    ExportQuery,
)
from services.platform.auth import DisclosureOfficer
from services.platform.context import ContextDep

router = APIRouter(prefix="/api/disclosures", tags=["disclosures"])
DisclosureId = Annotated[str, Path(pattern=r"^DC-[0-9A-Z]{5}-[0-9A-Z]{5}$")]


@router.post("", status_code=201, response_model=DisclosureOut)
def record_disclosure(
    body: DisclosureIn, staff: DisclosureOfficer, context: ContextDep
) -> DisclosureOut:
    """Log a disclosure: who asked, on what legal basis, what and which records, who
    approved. The records must exist; the approver must hold the disclosure permission."""
    new = disclosures.NewDisclosure(
        **body.model_dump(exclude={"records"}),
        records=[disclosures.RecordRef(record.type, record.id) for record in body.records],
    )
    return actions.record_disclosure(context, staff.actor, new)


@router.get("", response_model=DisclosurePage)
def list_disclosures(
    staff: DisclosureOfficer, context: ContextDep, filters: Annotated[DisclosureFilters, Query()]
) -> DisclosurePage:
    """The disclosure log, newest first, by legal basis and local dates; pass
    ``next_before`` back as ``before`` for the next page."""
    return actions.list_disclosures(context, staff.actor, filters)


@router.post(
    "/public-records",
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
)
def public_records_export(
    query: ExportQuery, staff: DisclosureOfficer, context: ContextDep
) -> StreamingResponse:
    """Service requests filed on local dates ``start`` to ``end`` for a public-records
    request: no names, numbers, emails, home addresses, descriptions or street numbers.
    The export is written to the disclosure log and audited before it is sent, so it is
    a POST: a GET (a prefetch, a crawler, a reload) must never record a disclosure."""
    export = actions.export_public_records(context, staff.actor, query)
    headers = {"X-Disclosure-Id": export.disclosure_id}
    if export.download_name is not None:
        headers["Content-Disposition"] = f'attachment; filename="{export.download_name}"'
    return StreamingResponse(export.chunks, media_type=export.media_type, headers=headers)


@router.get("/{public_id}", response_model=DisclosureOut)
def read_disclosure(
    public_id: DisclosureId, staff: DisclosureOfficer, context: ContextDep
) -> DisclosureOut:
    """One entry of the disclosure log."""
    return actions.read_disclosure(context, staff.actor, public_id)
