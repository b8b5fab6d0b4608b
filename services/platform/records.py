"""The platform's own records in the personal-data registry: the app's minimal access
log (an internet service log: one calendar month at most) and the audit trail (purged
only by whole sealed months, so what remains still verifies)."""

from __future__ import annotations

from sqlalchemy import func, select

from services.platform import audit
from services.platform.models import AccessLogEntry, AuditEntry, QueuedJob
from services.platform.personal_data import (
    FreeText,
    PersonalData,
    PurgeStep,
    RecordClass,
    Sweep,
    delete_rows,
)


def _purge_access_log(sweep: Sweep) -> None:
    sweep.walk(
        "access_log",
        select(AccessLogEntry.id).where(AccessLogEntry.at < sweep.cutoff("access_log")),
        AccessLogEntry.id,
        delete_rows(AccessLogEntry, AccessLogEntry.id),
    )


def _purge_audit(sweep: Sweep) -> None:
    """Whole sealed months before the cutoff's month go; their seals stay."""
    before = audit.month_of(sweep.cutoff("audit"))
    if sweep.dry_run:
        with sweep.db() as session:
            count = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.occurred_at < audit.month_start(before))
            )
        sweep.count("audit", int(count or 0))
        return
    with sweep.db.begin() as session:
        audit.seal_months(session, now=sweep.as_of)
        sweep.count("audit", audit.purge_sealed_months(session, before=before, now=sweep.as_of))


PERSONAL_DATA = PersonalData(
    feature="platform",
    free_text=(
        FreeText(AccessLogEntry.route, personal=False),
        FreeText(AuditEntry.detail, personal=False),
        # Jobs carry ids and flags only (payloads are refused past a few ids' length).
        FreeText(QueuedJob.dedupe_key, personal=False),
        FreeText(QueuedJob.payload, personal=False),
    ),
    record_classes=(
        RecordClass(
            "access_log", "the app's access log", "the request", 1, "months", (1, "months")
        ),
        RecordClass("audit", "audit trail (whole sealed months)", "the entry", 3, "years"),
    ),
    purge=(
        PurgeStep("access_log", 10, _purge_access_log),
        PurgeStep("audit", 90, _purge_audit),
    ),
)
