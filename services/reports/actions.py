"""Reports, one function per use case: each reads its aggregates in its unit of work and
leaves its audit entry (also when the range is refused). The staff API and the console's
dashboard call these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.directory.models import Extension
from services.platform.actions import Work, unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.resources import resource
from services.reports import service as reports
from services.reports import wallboard
from services.reports.schemas import (
    AgentReport,
    AgentReportQuery,
    AgentRowOut,
    CallReport,
    CallReportQuery,
    CallRowOut,
    ContactReport,
    CountOut,
    DepartmentBoardOut,
    InquiriesOut,
    MonthTopOut,
    ReportQuery,
    RequestReport,
    RequestRowOut,
    WallboardOut,
)
from services.staff.service import PresencePolicy


def _asked(
    context: AppContext, work: Work, query: ReportQuery
) -> tuple[reports.DateRange, int | None]:
    """Note what was asked on the entry; the range checked, and the smallest count a
    published report shows (None: internal figures withhold nothing). InvalidField for a
    range that runs backwards or is too long."""
    work.note(
        start=query.start.isoformat(),
        end=query.end.isoformat(),
        published=query.published,
        format=query.format,
    )
    period = reports.DateRange.checked(query.start, query.end)
    threshold = context.part(reports.Publication).min_cell if query.published else None
    return period, threshold


def call_report(context: AppContext, actor: Actor, query: CallReportQuery) -> CallReport:
    """Calls (the caller's leg), answered, abandoned and average handle time by local hour
    of the day, local date or extension. InvalidField for a range that runs backwards or
    is too long; published reports withhold small cells."""
    with unit_of_work(
        context, actor, "report.read", object_type="report", object_id="calls"
    ) as work:
        period, threshold = _asked(context, work, query)
        found = reports.call_report(
            work.session, period, by=query.by, tz=context.city_tz, suppress_below=threshold
        )
        work.note(rows=len(found), by=query.by)
        return CallReport(
            by=query.by,
            start=query.start,
            end=query.end,
            published=query.published,
            suppressed_below=threshold,
            rows=[CallRowOut(**vars(row)) for row in found],
        )


def request_report(context: AppContext, actor: Actor, query: ReportQuery) -> RequestReport:
    """Service requests filed on the local dates asked for (anonymous ones too), by
    service and current status. InvalidField for a range that runs backwards or is too
    long; published reports withhold small cells."""
    with unit_of_work(
        context, actor, "report.read", object_type="report", object_id="requests"
    ) as work:
        period, threshold = _asked(context, work, query)
        found = reports.request_report(
            work.session, period, tz=context.city_tz, suppress_below=threshold
        )
        work.note(rows=len(found))
        return RequestReport(
            start=query.start,
            end=query.end,
            published=query.published,
            suppressed_below=threshold,
            rows=[RequestRowOut(**vars(row)) for row in found],
        )


def call_dashboard(
    context: AppContext, actor: Actor, period: reports.DateRange, *, by: reports.Grouping
) -> list[reports.CallRow]:
    """The console dashboard's call figures for ``period`` (already checked by the page),
    unsuppressed: staff who may read reports see internal figures."""
    with unit_of_work(context, actor, "reports.calls", object_type="report") as work:
        work.note(by=by, start=period.start.isoformat(), end=period.end.isoformat())
        return reports.call_report(work.session, period, by=by, tz=context.city_tz)


def contact_report(context: AppContext, actor: Actor, query: ReportQuery) -> ContactReport:
    """Contacts by topic, resolution, channel and department, inquiries versus requests
    for service, and the top inquiries per month, for the local dates asked for.
    InvalidField for a bad range; published reports withhold small counts."""
    with unit_of_work(
        context, actor, "report.read", object_type="report", object_id="contacts"
    ) as work:
        period, threshold = _asked(context, work, query)
        found = reports.contact_report(
            work.session, period, tz=context.city_tz, suppress_below=threshold
        )

        def counts(tallies: list[reports.Tally]) -> list[CountOut]:
            return [CountOut(key=tally.key, count=tally.count) for tally in tallies]

        return ContactReport(
            start=query.start,
            end=query.end,
            published=query.published,
            suppressed_below=threshold,
            by_topic=counts(found.by_topic),
            by_resolution=counts(found.by_resolution),
            by_channel=counts(found.by_channel),
            by_department=counts(found.by_department),
            inquiries_and_requests=InquiriesOut(
                inquiries=found.inquiries,
                requests_for_service=found.requests_for_service,
                neither=found.neither,
            ),
            top_inquiries=[
                MonthTopOut(month=month.month, items=counts(month.items))
                for month in found.top_inquiries
            ],
        )


def agent_report(context: AppContext, actor: Actor, query: AgentReportQuery) -> AgentReport:
    """Average talk, after-contact work and handle time per agent (supervisors)."""
    with unit_of_work(
        context, actor, "report.read", object_type="report", object_id="agents"
    ) as work:
        work.note(start=query.start.isoformat(), end=query.end.isoformat(), format=query.format)
        period = reports.DateRange.checked(query.start, query.end)
        rows = reports.agent_report(work.session, period, tz=context.city_tz)
        work.note(rows=len(rows))
        return AgentReport(
            start=query.start, end=query.end, rows=[AgentRowOut(**vars(row)) for row in rows]
        )


# -- the wallboard -----------------------------------------------------------------------


def _wallboard(context: AppContext, session: Session, now: datetime) -> WallboardOut:
    menu = list(
        session.execute(select(Extension.digits, Extension.name_en).order_by(Extension.position))
    )
    names = {digits: name for digits, name in menu}
    board = wallboard.wallboard(
        session,
        now=now,
        tz=context.city_tz,
        presence=context.part(PresencePolicy),
        departments=[digits for digits, _ in menu],
    )

    def out(row: wallboard.DepartmentBoard, name: str) -> DepartmentBoardOut:
        return resource(
            DepartmentBoardOut,
            row,
            name=name,
        )

    return WallboardOut(
        at=board.at.astimezone(context.city_tz),
        threshold_seconds=board.threshold_seconds,
        departments=[
            out(row, names.get(row.department) or "No department") for row in board.departments
        ],
        total=out(board.total, "All departments"),
    )


def open_wallboard(context: AppContext, actor: Actor) -> WallboardOut:
    """The wallboard as a supervisor opens it: audited once per opening."""
    with unit_of_work(
        context, actor, "report.read", object_type="report", object_id="wallboard"
    ) as work:
        return _wallboard(context, work.session, work.now)


def wallboard_now(context: AppContext) -> WallboardOut:
    """The wallboard again, for a stream already opened (and audited) with
    ``open_wallboard``: counts, times and the names of staff taking calls, no caller's
    data, so each refresh is not an audited act of its own."""
    with context.db() as session:
        return _wallboard(context, session, context.clock.now())
