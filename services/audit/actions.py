"""Reading the audit trail: a use case like any other, and audited itself."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from services.audit.schemas import AuditEntryOut, AuditExportFilters, AuditFilters, AuditPage
from services.platform import audit
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext

EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "detail",
)


def _used(filters: AuditFilters) -> list[str]:
    return sorted(
        name
        for name, value in filters.model_dump(exclude={"limit", "before_seq"}).items()
        if value is not None
    )


def read_trail(context: AppContext, actor: Actor, filters: AuditFilters) -> AuditPage:
    """Audit entries newest first, filtered by actor, action, object and time, a page at
    a time. The reading leaves an entry of its own (with how many it found)."""
    with unit_of_work(context, actor, "audit.read", object_type="audit_log") as work:
        entries = audit.search(work.session, audit.AuditQuery(**filters.model_dump()))
        work.note(results=len(entries))
        return AuditPage(
            items=[AuditEntryOut.of(entry, context.city_tz) for entry in entries],
            next_before_seq=entries[-1].seq if len(entries) == filters.limit else None,
        )


def recorded_actions(context: AppContext) -> list[str]:
    """The actions the trail holds (names of acts, no one's data: not audited)."""
    with context.db() as session:
        return audit.actions_recorded(session)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a leading =, +, - or @ would be run as a
    formula, so such a cell is quoted with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_trail(context: AppContext, actor: Actor, filters: AuditExportFilters) -> str:
    """The entries the filters select, newest first, as CSV. The export is audited
    ("audit.export") with the names of the filters used and how many rows it held."""
    with unit_of_work(context, actor, "audit.export", object_type="audit_log") as work:
        entries = audit.search(work.session, audit.AuditQuery(**filters.model_dump()))
        work.note(results=len(entries), filters=_used(filters), format="csv")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for entry in entries:
            shown = AuditEntryOut.of(entry, context.city_tz)
            row = shown.model_dump(mode="json")
            row["detail"] = json.dumps(shown.detail, sort_keys=True, ensure_ascii=False)
            writer.writerow([_cell(row[name]) for name in EXPORT_COLUMNS])
        return out.getvalue()
