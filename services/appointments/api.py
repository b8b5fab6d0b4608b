"""Staff API for appointments and a preview of their texts: routes that parse, call the
action, and return its answer. (The outbox and callers' replies: services.messaging.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.appointments import actions
from services.appointments.schemas import (
    AppointmentIn,
    AppointmentList,
    AppointmentOut,
    Preview,
    PreviewIn,
    RescheduleIn,
)
from services.platform.auth import Scheduler
from services.platform.context import ContextDep

router = APIRouter(tags=["appointments"])
AppointmentId = Annotated[str, Path(pattern=r"^AP-[0-9A-Z]{5}-[0-9A-Z]{5}$")]


@router.post("/api/appointments", status_code=201, response_model=AppointmentOut)
def book_appointment(body: AppointmentIn, staff: Scheduler, context: ContextDep) -> AppointmentOut:
    """Book a visit for a request; the caller gets a confirmation text and a reminder."""
    return actions.book(context, staff.actor, body)


@router.get("/api/appointments", response_model=AppointmentList)
def appointments_of_request(
    request_id: Annotated[str, Query(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")],
    staff: Scheduler,
    context: ContextDep,
) -> AppointmentList:
    """A request's appointments with the texts about each, soonest visit first."""
    return actions.of_request(context, staff.actor, request_id)


@router.post("/api/appointments/preview", response_model=Preview)
def preview_text(body: PreviewIn, staff: Scheduler, context: ContextDep) -> Preview:
    """The confirmation text the caller would get, before booking."""
    return actions.preview(context, body)


@router.get("/api/appointments/{appointment_id}", response_model=AppointmentOut)
def read_appointment(
    appointment_id: AppointmentId, staff: Scheduler, context: ContextDep
) -> AppointmentOut:
    """An appointment and the texts about it."""
    return actions.read(context, staff.actor, appointment_id)


@router.post("/api/appointments/{appointment_id}/reschedule", response_model=AppointmentOut)
def reschedule_appointment(
    appointment_id: AppointmentId, body: RescheduleIn, staff: Scheduler, context: ContextDep
) -> AppointmentOut:
    """Move the visit; the caller is told, and reminded at the new time."""
    return actions.reschedule(context, staff.actor, appointment_id, body)


@router.post("/api/appointments/{appointment_id}/cancel", response_model=AppointmentOut)
def cancel_appointment(
    appointment_id: AppointmentId, staff: Scheduler, context: ContextDep
) -> AppointmentOut:
    """Cancel the visit; pending texts are withdrawn and the caller is told."""
    return actions.cancel(context, staff.actor, appointment_id)
