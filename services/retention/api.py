"""Staff API: retention schedules and runs (administrators), legal holds (the privacy
officer). Routes that parse, call the action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.platform.auth import ConfigAdmin, HoldKeeper
from services.platform.context import ContextDep
from services.retention import actions
from services.retention.schemas import (
    HoldOut,
    NewHoldIn,
    ReleaseIn,
    RunIn,
    RunOut,
    ScheduleChange,
    ScheduleOut,
)

router = APIRouter(tags=["retention"])


@router.get("/api/retention/schedules", response_model=list[ScheduleOut])
def list_schedules(staff: ConfigAdmin, context: ContextDep) -> list[ScheduleOut]:
    """How long each class of records is kept."""
    return actions.list_schedules(context)


@router.put("/api/retention/schedules/{record_class}", response_model=list[ScheduleOut])
def change_schedule(
    record_class: Annotated[str, Path(max_length=32, pattern=r"^[a-z_]+$")],
    body: ScheduleChange,
    staff: ConfigAdmin,
    context: ContextDep,
) -> list[ScheduleOut]:
    """Change one class's period (within the policy's ceilings); audited."""
    return actions.change_schedule(
        context, staff.actor, record_class, amount=body.amount, unit=body.unit
    )


@router.post("/api/retention/run", response_model=RunOut)
def run_now(body: RunIn, staff: ConfigAdmin, context: ContextDep) -> RunOut:
    """Run the purge now (by default dry: what would go, and what holds keep). Only a
    dry run may look at another instant (``as_of``); a run that destroys runs as of now."""
    return RunOut.model_validate(
        actions.run_retention_now(context, staff.actor, as_of=body.as_of, dry_run=body.dry_run)
    )


# -- legal holds --------------------------------------------------------------------


@router.post("/api/holds", status_code=201, response_model=HoldOut)
def place_hold(body: NewHoldIn, staff: HoldKeeper, context: ContextDep) -> HoldOut:
    """Hold a request, call, recording or person's data from destruction."""
    return actions.place_hold(context, staff.actor, body.new_hold())


@router.get("/api/holds", response_model=list[HoldOut])
def list_holds(
    staff: HoldKeeper,
    context: ContextDep,
    released: Annotated[bool, Query(description="include released holds")] = False,
) -> list[HoldOut]:
    """Holds, newest first: standing ones, or all."""
    return actions.list_holds(context, staff.actor, released=released)


@router.post("/api/holds/{hold_id}/release", response_model=HoldOut)
def release_hold(
    hold_id: Annotated[str, Path(max_length=16, pattern=r"^LH-[0-9A-Z]+$")],
    body: ReleaseIn,
    staff: HoldKeeper,
    context: ContextDep,
) -> HoldOut:
    """Release a hold; the data it kept follows its schedule again."""
    return actions.release_hold(context, staff.actor, hold_id, reason=body.reason)
