"""Staff API: retention schedules and runs (administrators), legal holds (the privacy
officer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import AppContext, ContextDep
from services.platform.errors import InvalidField
from services.platform.personal_data import Registry
from services.retention import holds
from services.retention.models import LegalHold
from services.retention.schedules import Schedule, schedules, set_schedule
from services.retention.service import run_retention
from services.staff import service as accounts

router = APIRouter(tags=["retention"])

Admin = Annotated[Staff, Depends(require(Permission.CONFIG_MANAGE))]
HoldKeeper = Annotated[Staff, Depends(require(Permission.LEGAL_HOLDS))]


class ScheduleOut(BaseModel):
    record_class: str
    label: str
    counted_from: str
    amount: int
    unit: str
    default: str
    ceiling: str | None


class ScheduleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=1, le=36_500)
    unit: Literal["days", "months", "years"]


def _schedules_out(context: AppContext) -> list[ScheduleOut]:
    classes = context.part(Registry).record_classes()
    with context.db() as session:
        current = schedules(session, classes)
    out = []
    for name, known in classes.items():
        schedule = current[name]
        out.append(
            ScheduleOut(
                record_class=name,
                label=known.label,
                counted_from=known.counted_from,
                amount=schedule.amount,
                unit=schedule.unit,
                default=Schedule(name, known.amount, known.unit).text,
                ceiling=Schedule(name, *known.longest).text if known.longest else None,
            )
        )
    return out


@router.get("/api/retention/schedules", response_model=list[ScheduleOut])
def list_schedules(staff: Admin, context: ContextDep) -> list[ScheduleOut]:
    """How long each class of records is kept."""
    return _schedules_out(context)


@router.put("/api/retention/schedules/{record_class}", response_model=list[ScheduleOut])
def change_schedule(
    record_class: Annotated[str, Path(max_length=32, pattern=r"^[a-z_]+$")],
    body: ScheduleChange,
    staff: Admin,
    context: ContextDep,
) -> list[ScheduleOut]:
    """Change one class's period (within the policy's ceilings); audited."""
    now = context.clock.now()
    with context.db.begin() as session:
        schedule = set_schedule(
            session,
            context.part(Registry).record_classes(),
            record_class,
            body.amount,
            body.unit,
            by=staff.user_id,
            now=now,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="config.retention",
            at=now,
            object_type="retention_schedule",
            object_id=record_class,
            detail={"period": schedule.text},
        )
    return _schedules_out(context)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = True
    as_of: datetime | None = None


class RunOut(BaseModel):
    as_of: datetime
    dry_run: bool
    counts: dict[str, int]
    held: dict[str, int]
    blobs_deleted: int


@router.post("/api/retention/run", response_model=RunOut)
def run_now(body: RunIn, staff: Admin, context: ContextDep) -> RunOut:
    """Run the purge now (by default dry: what would go, and what holds keep)."""
    report = run_retention(context, as_of=body.as_of, dry_run=body.dry_run, actor=staff.actor)
    return RunOut(
        as_of=report.as_of,
        dry_run=report.dry_run,
        counts=report.counts,
        held=report.held,
        blobs_deleted=report.blobs_deleted,
    )


# -- legal holds --------------------------------------------------------------------


class NewHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: Literal["request", "call", "recording", "person"]
    target_ref: str | None = Field(
        default=None, max_length=64, description="The request number, CallSid or RecordingSid"
    )
    person: dict[Literal["phone", "email", "name", "address"], str] | None = Field(
        default=None, description="For a person: exactly one key and its value"
    )
    reason: str = Field(min_length=3, max_length=2000)


class HoldOut(BaseModel):
    id: str
    target_type: str
    target_ref: str | None
    person_kind: str | None
    reason: str
    placed_by: str | None
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


def _hold_out(session: Session, hold: LegalHold, context: AppContext) -> HoldOut:
    staff_ids = {user for user in (hold.placed_by_id, hold.released_by_id) if user}
    names = accounts.usernames(session, staff_ids)
    return HoldOut(
        id=hold.public_id,
        target_type=hold.target_type,
        target_ref=hold.target_ref,
        person_kind=hold.person_kind,
        reason=hold.reason,
        placed_by=names.get(hold.placed_by_id or 0),
        placed_at=hold.placed_at.astimezone(context.city_tz),
        released_by=names.get(hold.released_by_id or 0),
        released_at=hold.released_at.astimezone(context.city_tz) if hold.released_at else None,
        release_reason=hold.release_reason,
    )


@router.post("/api/holds", status_code=201, response_model=HoldOut)
def place_hold(body: NewHoldIn, staff: HoldKeeper, context: ContextDep) -> HoldOut:
    """Hold a request, call, recording or person's data from destruction."""
    person_kind, person_value = None, None
    if body.person:
        if len(body.person) != 1:
            raise InvalidField("person", "give exactly one of phone, email, name, address")
        ((person_kind, person_value),) = body.person.items()
    now = context.clock.now()
    with context.db.begin() as session:
        hold = holds.place_hold(
            session,
            context.keyring,
            holds.NewHold(
                target_type=body.target_type,
                reason=body.reason,
                target_ref=body.target_ref,
                person_kind=person_kind,
                person_value=person_value,
            ),
            by=staff.user_id,
            now=now,
            region=context.region,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="hold.place",
            at=now,
            object_type="legal_hold",
            object_id=hold.public_id,
            detail={"target_type": hold.target_type, "person_kind": hold.person_kind},
        )
        return _hold_out(session, hold, context)


@router.get("/api/holds", response_model=list[HoldOut])
def list_holds(
    staff: HoldKeeper,
    context: ContextDep,
    released: Annotated[bool, Query(description="include released holds")] = False,
) -> list[HoldOut]:
    """Holds, newest first: standing ones, or all."""
    with context.db.begin() as session:
        query = select(LegalHold).order_by(LegalHold.id.desc()).limit(1000)
        if not released:
            query = query.where(LegalHold.released_at.is_(None))
        found = list(session.scalars(query))
        audit.record(
            session,
            actor=staff.actor,
            action="hold.list",
            at=context.clock.now(),
            object_type="legal_hold",
            detail={"results": len(found)},
        )
        return [_hold_out(session, hold, context) for hold in found]


@router.post("/api/holds/{hold_id}/release", response_model=HoldOut)
def release_hold(
    hold_id: Annotated[str, Path(max_length=16, pattern=r"^LH-[0-9A-Z]+$")],
    body: ReleaseIn,
    staff: HoldKeeper,
    context: ContextDep,
) -> HoldOut:
    """Release a hold; the data it kept follows its schedule again."""
    now = context.clock.now()
    with context.db.begin() as session:
        hold = holds.release_hold(session, hold_id, reason=body.reason, by=staff.user_id, now=now)
        audit.record(
            session,
            actor=staff.actor,
            action="hold.release",
            at=now,
            object_type="legal_hold",
            object_id=hold.public_id,
        )
        return _hold_out(session, hold, context)
