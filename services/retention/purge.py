"""The purge: destroys what its schedule no longer allows the city to keep.

The steps come from the personal-data registry: each feature destroys its own records,
in the registry's order, so that nothing is left pointing at a destroyed row (a
request's appointments go before the request, a call's recordings before the call).
Each step walks its rows in id order, in batches of ``batch_size``, one short
transaction per batch with a pause between, so webhooks keep flowing during a large
purge. What a legal hold keeps (services.retention.holds) is skipped and counted. A
crash at any point is finished by the next run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from services.platform.personal_data import Found, Registry
from services.retention.holds import resolve
from services.retention.schedules import Schedule, schedules
from storage.blobs import BlobStore
from storage.crypto import Keyring

log = logging.getLogger("switchboard.retention")


@dataclass(frozen=True)
class PurgePolicy:
    """How hard the purge may press: rows per transaction and the pause between them."""

    batch_size: int = 500
    pause_seconds: float = 0.0


@dataclass(frozen=True)
class PurgeConfig:
    db: sessionmaker[Session]
    keyring: Keyring
    blobs: BlobStore
    registry: Registry
    batch_size: int = 500
    pause_seconds: float = 0.0


@dataclass
class PurgeReport:
    as_of: datetime
    dry_run: bool
    now: datetime | None = None  # when the run really happened (None: as_of)
    counts: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    blobs_deleted: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, name: str, count: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + count


class _Sweep:
    """One run of the purge, as the registry's steps see it (``personal_data.Sweep``)."""

    def __init__(
        self,
        config: PurgeConfig,
        report: PurgeReport,
        plan: dict[str, Schedule],
        held: Found,
    ) -> None:
        self.config, self.report, self.plan, self.held = config, report, plan, held
        self.dry_run, self.as_of = report.dry_run, report.as_of
        self.now = report.now or report.as_of
        self.db, self.keyring, self.blobs = config.db, config.keyring, config.blobs
        self.batch_size = config.batch_size

    def cutoff(self, record_class: str) -> datetime:
        return self.plan[record_class].cutoff(self.as_of)

    def count(self, name: str, rows: int) -> None:
        self.report.add(name, rows)

    def blob_deleted(self) -> None:
        self.report.blobs_deleted += 1

    def walk(
        self,
        name: str,
        query: Any,
        id_column: Any,
        destroy: Callable[[Session, list[Any]], int] | None,
        *,
        keep: Callable[[Sequence[Any]], bool] | None = None,
        counted: bool = True,
    ) -> None:
        if counted:
            self.report.counts.setdefault(name, 0)
        last: Any = None
        while True:
            page = query.order_by(id_column).limit(self.batch_size)
            if last is not None:
                page = page.where(id_column > last)
            with self.db.begin() as session:
                rows = list(session.execute(page))
                if not rows:
                    return
                last = rows[-1][0]
                doomed = [row[0] for row in rows if keep is None or not keep(row)]
                kept = len(rows) - len(doomed)
                if kept:
                    self.report.held[name] = self.report.held.get(name, 0) + kept
                if doomed:
                    gone = (
                        len(doomed) if self.dry_run or destroy is None else destroy(session, doomed)
                    )
                    if counted:
                        self.report.add(name, gone)
            if len(rows) < self.batch_size:
                return
            if self.config.pause_seconds:
                time.sleep(self.config.pause_seconds)


def run_purge(
    config: PurgeConfig, *, as_of: datetime, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Destroy (or, dry, count) everything past its schedule as of ``as_of``. ``now`` is
    the real instant: what may only be judged by it (which months of the audit trail are
    complete) never follows ``as_of``."""
    report = PurgeReport(as_of=as_of, dry_run=dry_run, now=now)
    with config.db() as session:
        plan = schedules(session, config.registry.record_classes())
        held = resolve(session, config.keyring, config.registry)
    sweep = _Sweep(config, report, plan, held)
    for step in config.registry.purge_steps():
        step.run(sweep)
    report.held = {name: count for name, count in report.held.items() if count}
    return report
