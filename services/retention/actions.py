"""Retention schedules, runs and legal holds, one function per use case: each opens its
unit of work and leaves its audit entry (also when a hold is not found or a change is
refused). The staff API, the command line and the nightly job call these.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField
from services.platform.personal_data import RecordClass, Registry
from services.platform.resources import resource
from services.retention import holds
from services.retention import service as retention
from services.retention.models import LegalHold
from services.retention.purge import PurgeConfig, PurgePolicy, PurgeReport, run_purge
from services.retention.schedules import Schedule, schedules, set_schedule
from services.retention.schemas import HoldOut, ScheduleOut
from services.staff import service as accounts

log = logging.getLogger("switchboard.retention")
LEGAL_HOLD = "legal_hold"


# -- schedules and runs -----------------------------------------------------------------


def _schedules_out(session: Session, classes: Mapping[str, RecordClass]) -> list[ScheduleOut]:
    current = schedules(session, classes)
    return [
        ScheduleOut(
            record_class=name,
            label=known.label,
            counted_from=known.counted_from,
            amount=current[name].amount,
            unit=current[name].unit,
            default=Schedule(name, known.amount, known.unit).text,
            ceiling=Schedule(name, *known.longest).text if known.longest else None,
        )
        for name, known in classes.items()
    ]


def list_schedules(context: AppContext) -> list[ScheduleOut]:
    """How long each class of records is kept (configuration: not audited)."""
    with context.db() as session:
        return _schedules_out(session, context.part(Registry).record_classes())


def change_schedule(
    context: AppContext, actor: Actor, record_class: str, *, amount: int, unit: str
) -> list[ScheduleOut]:
    """Change one class's period, within the policy's ceilings; every schedule after."""
    with unit_of_work(
        context,
        actor,
        "config.retention",
        object_type="retention_schedule",
        object_id=record_class,
    ) as work:
        classes = context.part(Registry).record_classes()
        schedule = set_schedule(
            work.session, classes, record_class, amount, unit, by=actor.user_id, now=work.now
        )
        work.note(period=schedule.text)
        return _schedules_out(work.session, classes)


def _purge_config(context: AppContext) -> PurgeConfig:
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
    actor: Actor,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    via: str | None = None,
) -> PurgeReport:
    """The operator's run (the command line on the server, the nightly job): purge (or,
    dry, only count) what the schedules no longer keep as of ``as_of`` (now by default),
    for drills and tests. Audited once, with the counts and the instant it judged by.

    Whatever ``as_of`` says, months of the audit trail are sealed, and so destroyed, only
    when they are really over, and legal holds keep what they hold. The purge commits
    batch by batch in its own short transactions, so that webhooks keep flowing; the
    audit entry follows them (or says "error" if the purge failed).
    """
    return _run(context, actor, as_of=as_of, dry_run=dry_run, via=via, any_instant=True)


def run_retention_now(
    context: AppContext, actor: Actor, *, as_of: datetime | None = None, dry_run: bool = True
) -> PurgeReport:
    """A run asked for through the staff API or console: it destroys only as of now;
    another instant only counts (a dry run). A destroying run "as of" another instant is
    refused (422 on ``as_of``) and the refusal is audited."""
    return _run(context, actor, as_of=as_of, dry_run=dry_run, via=None, any_instant=False)


def _run(
    context: AppContext,
    actor: Actor,
    *,
    as_of: datetime | None,
    dry_run: bool,
    via: str | None,
    any_instant: bool,
) -> PurgeReport:
    with unit_of_work(
        context, actor, "retention.dry_run" if dry_run else "retention.run", object_type="retention"
    ) as work:
        if via is not None:
            work.note(via=via)
        if as_of is not None:
            work.note(as_of_asked=as_of.isoformat())
        if as_of is not None and not dry_run and not any_instant:
            raise InvalidField(
                "as_of", "a run that destroys records runs as of now; use a dry run to look ahead"
            )
        report = run_purge(
            _purge_config(context), as_of=as_of or work.now, now=work.now, dry_run=dry_run
        )
        work.note(
            as_of=report.as_of.isoformat(),
            **{"due" if dry_run else "destroyed": report.counts},
            held=report.held,
            blobs_deleted=report.blobs_deleted,
        )
    log.info(
        "retention run",
        extra={"dry_run": dry_run, "rows": report.total, "blobs": report.blobs_deleted},
    )
    return report


# -- legal holds ------------------------------------------------------------------------


def _hold_out(context: AppContext, session: Session, hold: LegalHold) -> HoldOut:
    staff_ids = {user for user in (hold.placed_by_id, hold.released_by_id) if user}
    names = accounts.usernames(session, staff_ids)
    return resource(
        HoldOut,
        hold,
        id=hold.public_id,
        placed_by=names.get(hold.placed_by_id or 0),
        placed_at=hold.placed_at.astimezone(context.city_tz),
        released_by=names.get(hold.released_by_id or 0),
        released_at=hold.released_at.astimezone(context.city_tz) if hold.released_at else None,
    )


def place_hold(context: AppContext, actor: Actor, new: holds.NewHold) -> HoldOut:
    """Hold a request, call, recording or person's data from destruction."""
    with unit_of_work(context, actor, "hold.place", object_type=LEGAL_HOLD) as work:
        hold = holds.place_hold(
            work.session,
            context.keyring,
            new,
            by=actor.user_id,
            now=work.now,
            region=context.region,
        )
        work.object_id = hold.public_id
        work.note(target_type=hold.target_type, person_kind=hold.person_kind)
        return _hold_out(context, work.session, hold)


def list_holds(context: AppContext, actor: Actor, *, released: bool = False) -> list[HoldOut]:
    """Holds, newest first: the standing ones, or all (``released``)."""
    with unit_of_work(context, actor, "hold.list", object_type=LEGAL_HOLD) as work:
        found = retention.list_holds(work.session, released=released)
        work.note(results=len(found))
        return [_hold_out(context, work.session, hold) for hold in found]


def release_hold(context: AppContext, actor: Actor, hold_id: str, *, reason: str) -> HoldOut:
    """Release a hold; the data it kept follows its schedule again."""
    with unit_of_work(
        context, actor, "hold.release", object_type=LEGAL_HOLD, object_id=hold_id
    ) as work:
        hold = holds.release_hold(
            work.session, hold_id, reason=reason, by=actor.user_id, now=work.now
        )
        return _hold_out(context, work.session, hold)
