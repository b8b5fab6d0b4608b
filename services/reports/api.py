"""Staff API for aggregate statistics, as JSON or CSV; every read is audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import AppContext, ContextDep
from services.reports import service as reports

router = APIRouter(prefix="/api/reports", tags=["reports"])
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}
}


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date = Field(description="First local date of the city, included.")
    end: date = Field(description="Last local date of the city, included (at most 366 days).")
    published: bool = Field(
        default=False, description="For publication: counts below REPORT_MIN_CELL withheld."
    )
    format: Literal["json", "csv"] = "json"


class CallReportQuery(ReportQuery):
    by: Literal["hour", "day", "extension"]


class CallRowOut(BaseModel):
    key: str = Field(description='"00".."23", an ISO date, or extension digits ("none")')
    calls: int | None
    answered: int | None
    abandoned: int | None
    avg_handle_seconds: float | None


class CallReport(BaseModel):
    by: str
    start: date
    end: date
    published: bool
    suppressed_below: int | None = Field(description="The threshold, in published reports.")
    rows: list[CallRowOut]


class RequestRowOut(BaseModel):
    service_code: str
    service_name: str
    status: str
    count: int | None


class RequestReport(BaseModel):
    start: date
    end: date
    published: bool
    suppressed_below: int | None
    rows: list[RequestRowOut]


def _csv(name: str, columns: Sequence[str], rows: Sequence[BaseModel]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = row.model_dump()
        writer.writerow(["" if values[column] is None else values[column] for column in columns])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _audit_read(
    context: AppContext, staff: Staff, report: str, query: ReportQuery, rows: int, **extra: str
) -> None:
    with context.db.begin() as session:
        audit.record(
            session,
            actor=staff.actor,
            action="report.read",
            at=context.clock.now(),
            object_type="report",
            object_id=report,
            detail={
                "start": query.start.isoformat(),
                "end": query.end.isoformat(),
                "published": query.published,
                "format": query.format,
                "rows": rows,
                **extra,
            },
        )


@router.get("/calls", response_model=CallReport, responses=CSV_RESPONSE)
def calls_report(
    staff: Annotated[Staff, Depends(require(Permission.REPORTS_READ))],
    context: ContextDep,
    query: Annotated[CallReportQuery, Query()],
) -> Any:
    """Calls (the caller's leg), answered, abandoned and average handle time by local hour
    of the day, local date or extension, for local dates ``start`` to ``end``."""
    period = reports.DateRange.checked(query.start, query.end)
    threshold = context.part(reports.Publication).min_cell if query.published else None
    with context.db() as session:
        found = reports.call_report(
            session, period, by=query.by, tz=context.city_tz, suppress_below=threshold
        )
    rows = [CallRowOut(**vars(row)) for row in found]
    _audit_read(context, staff, "calls", query, len(rows), by=query.by)
    if query.format == "csv":
        name = f"calls-by-{query.by}-{query.start}-{query.end}"
        return _csv(name, list(CallRowOut.model_fields), rows)
    return CallReport(
        by=query.by,
        start=query.start,
        end=query.end,
        published=query.published,
        suppressed_below=threshold,
        rows=rows,
    )


@router.get("/requests", response_model=RequestReport, responses=CSV_RESPONSE)
def requests_report(
    staff: Annotated[Staff, Depends(require(Permission.REPORTS_READ))],
    context: ContextDep,
    query: Annotated[ReportQuery, Query()],
) -> Any:
    """Service requests filed on local dates ``start`` to ``end`` (anonymous ones too), by
    service and current status."""
    period = reports.DateRange.checked(query.start, query.end)
    threshold = context.part(reports.Publication).min_cell if query.published else None
    with context.db() as session:
        found = reports.request_report(
            session, period, tz=context.city_tz, suppress_below=threshold
        )
    rows = [RequestRowOut(**vars(row)) for row in found]
    _audit_read(context, staff, "requests", query, len(rows))
    if query.format == "csv":
        name = f"requests-{query.start}-{query.end}"
        return _csv(name, list(RequestRowOut.model_fields), rows)
    return RequestReport(
        start=query.start,
        end=query.end,
        published=query.published,
        suppressed_below=threshold,
        rows=rows,
    )
