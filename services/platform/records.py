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
from storage.db import reading


def _purge_access_log(sweep: Sweep) -> None:
    sweep.walk(
        "access_log",
        select(AccessLogEntry.id).where(AccessLogEntry.at < sweep.cutoff("access_log")),
        AccessLogEntry.id,
        delete_rows(AccessLogEntry, AccessLogEntry.id),
    )


def _purge_audit(sweep: Sweep) -> None:
    """Whole sealed months before the cutoff's month go; their seals stay. Months are
    sealed as of the real instant, never as of the run's ``as_of``: no run, however far
    ahead it looks, seals (and so destroys) the month in progress."""
    before = min(audit.month_of(sweep.cutoff("audit")), audit.month_of(sweep.now))
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
        audit.seal_months(session, now=sweep.now)
        sweep.count("audit", audit.purge_sealed_months(session, before=before, now=sweep.now))
    with reading(sweep.db) as session:  # every seal is anchored outside the database
        audit.write_checkpoint(session, sweep.blobs, now=sweep.now)


PERSONAL_DATA = PersonalData(
    feature="platform",
    free_text=(
        FreeText(AccessLogEntry.route, personal=False, typed=False),
        FreeText(AuditEntry.detail, personal=False, typed=False),
        # Jobs carry ids and flags only (payloads are refused past a few ids' length).
        FreeText(QueuedJob.dedupe_key, personal=False, typed=False),
        FreeText(QueuedJob.payload, personal=False, typed=False),
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
