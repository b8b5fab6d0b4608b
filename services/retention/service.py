"""One retention run as the application does it: purge, then one audit entry."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from services.platform import audit
from services.platform.context import AppContext
from services.platform.personal_data import Registry
from services.retention.purge import PurgeConfig, PurgePolicy, PurgeReport, run_purge

log = logging.getLogger("switchboard.retention")


def purge_config(context: AppContext) -> PurgeConfig:
    policy = context.part(PurgePolicy)
    return PurgeConfig(
        db=context.db,
        keyring=context.keyring,
        blobs=context.blobs,
        registry=context.part(Registry),
        batch_size=policy.batch_size,
        pause_seconds=policy.pause_seconds,
    )


def run_retention(
    context: AppContext,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    actor: audit.Actor = audit.SYSTEM,
) -> PurgeReport:
    """Purge (or count, dry) as of ``as_of`` (now by default); audited once, with counts."""
    now = context.clock.now()
    report = run_purge(purge_config(context), as_of=as_of or now, dry_run=dry_run)
    with context.db.begin() as session:
        audit.record(
            session,
            actor=actor,
            action="retention.dry_run" if dry_run else "retention.run",
            at=now,
            object_type="retention",
            detail={
                "as_of": report.as_of.isoformat(),
                "destroyed" if not dry_run else "due": report.counts,
                "held": report.held,
                "blobs_deleted": report.blobs_deleted,
            },
        )
    log.info(
        "retention run",
        extra={"dry_run": dry_run, "rows": report.total, "blobs": report.blobs_deleted},
    )
    return report


def retention_job(context: AppContext, _payload: dict[str, Any]) -> None:
    """The nightly purge."""
    run_retention(context)
