"""Reading the audit trail: a use case like any other, and audited itself."""

from __future__ import annotations

from services.audit.schemas import AuditEntryOut, AuditFilters, AuditPage
from services.platform import audit
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext


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
