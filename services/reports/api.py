"""Staff API for aggregate statistics, as JSON or CSV; every read is audited. Routes
parse, call the action, and return its answer (as CSV when asked)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from services.platform.auth import AgentReportReader, ReportReader
from services.platform.context import ContextDep
from services.reports import actions
from services.reports.schemas import (
    AgentReport,
    AgentReportQuery,
    AgentRowOut,
    CallReport,
    CallReportQuery,
    CallRowOut,
    ContactReport,
    ReportQuery,
    RequestReport,
    RequestRowOut,
    WallboardOut,
)

router = APIRouter(prefix="/api/reports", tags=["reports"])
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}
}


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


def _answer(fmt: str, report: Any, name: str, row: type[BaseModel]) -> Any:
    """``report`` as JSON, or in the CSV format asked for as file ``name``: a line for
    each of its ``rows``, a column for each field of ``row``."""
    if fmt == "csv":
        return _csv(name, list(row.model_fields), report.rows)
    return report


@router.get("/calls", response_model=CallReport, responses=CSV_RESPONSE)
def calls_report(
    staff: ReportReader, context: ContextDep, query: Annotated[CallReportQuery, Query()]
) -> Any:
    """Calls (the caller's leg), answered, abandoned and average handle time by local hour
    of the day, local date or extension, for local dates ``start`` to ``end``."""
    report = actions.call_report(context, staff.actor, query)
    return _answer(
        query.format, report, f"calls-by-{query.by}-{query.start}-{query.end}", CallRowOut
    )


@router.get("/requests", response_model=RequestReport, responses=CSV_RESPONSE)
def requests_report(
    staff: ReportReader, context: ContextDep, query: Annotated[ReportQuery, Query()]
) -> Any:
    """Service requests filed on local dates ``start`` to ``end`` (anonymous ones too), by
    service and current status."""
    report = actions.request_report(context, staff.actor, query)
    return _answer(query.format, report, f"requests-{query.start}-{query.end}", RequestRowOut)


@router.get("/contacts", response_model=ContactReport, responses=CSV_RESPONSE)
def contacts_report(
    staff: ReportReader, context: ContextDep, query: Annotated[ReportQuery, Query()]
) -> Any:
    """Contacts started on local dates ``start`` to ``end``: by topic, resolution, channel
    and department, inquiries versus requests for service, top inquiries per month. The
    CSV has one row per figure: section, key, count."""
    report = actions.contact_report(context, staff.actor, query)
    if query.format == "csv":
        rows: list[BaseModel] = []
        for section in ("by_topic", "by_resolution", "by_channel", "by_department"):
            rows += [
                _Figure(section=section, key=c.key, count=c.count) for c in getattr(report, section)
            ]
        split = report.inquiries_and_requests
        rows += [
            _Figure(section="inquiries_and_requests", key=key, count=getattr(split, key))
            for key in ("inquiries", "requests_for_service", "neither")
        ]
        for month in report.top_inquiries:
            rows += [
                _Figure(section=f"top_inquiries {month.month}", key=c.key, count=c.count)
                for c in month.items
            ]
        return _csv(f"contacts-{query.start}-{query.end}", ["section", "key", "count"], rows)
    return report


class _Figure(BaseModel):
    section: str
    key: str
    count: int | None


@router.get("/contacts/agents", response_model=AgentReport, responses=CSV_RESPONSE)
def agents_report(
    staff: AgentReportReader, context: ContextDep, query: Annotated[AgentReportQuery, Query()]
) -> Any:
    """Per agent: phone contacts, average talk time, after-contact work and handle time
    (supervisors only: it names staff)."""
    report = actions.agent_report(context, staff.actor, query)
    return _answer(query.format, report, f"agents-{query.start}-{query.end}", AgentRowOut)


@router.get("/wallboard", response_model=WallboardOut)
def read_wallboard(staff: AgentReportReader, context: ContextDep) -> WallboardOut:
    """The contact centre now and today, per department: calls waiting and the longest
    wait, staff by presence, service level (answered within 30 s) and abandoned calls.
    The console's wallboard streams the same figures as server-sent events."""
    return actions.open_wallboard(context, staff.actor)
