"""Appointments, one function per use case: each opens its unit of work, does the work
through the service, leaves its audit entry (also for a miss or a refusal), and once it
has committed hands the texts that are due to the sender. The staff API calls these.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.appointments import service as appointments
from services.appointments.models import Appointment
from services.appointments.schemas import (
    AppointmentIn,
    AppointmentList,
    AppointmentOut,
    Preview,
    PreviewIn,
    RescheduleIn,
)
from services.messaging import actions as messaging
from services.messaging import segments
from services.messaging import service as texts
from services.messaging.schemas import TextOut
from services.messaging.sending import Outbound
from services.messaging.templates import Window, render
from services.platform import ssn
from services.platform.actions import Work, unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import Problem, existing
from services.platform.resources import resource
from services.requests.catalogue import get_service
from services.requests.models import ServiceRequest


def _city_time(context: AppContext, instant: datetime) -> datetime:
    """An instant from the API: with an offset as given; without one, in the city's time."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=context.city_tz)
    return instant


def _found(session: Session, public_id: str, *, lock: bool = False) -> Appointment:
    return existing(appointments.get_appointment(session, public_id, lock=lock), "appointment")


def _out(context: AppContext, session: Session, appointment: Appointment) -> AppointmentOut:
    request = session.get(ServiceRequest, appointment.request_id)
    tz = context.city_tz
    return resource(
        AppointmentOut,
        appointment,
        id=appointment.public_id,
        request_id=request.public_id if request else "",
        starts_at=appointment.starts_at.astimezone(tz),
        ends_at=appointment.ends_at.astimezone(tz),
        location=appointments.location_of(context.keyring, appointment),
        phone=appointments.phone_of(context.keyring, appointment),
        consent_at=appointment.consent_at.astimezone(tz),
        texts=[
            TextOut.of(message, context.keyring, tz)
            for message in texts.texts_about(session, appointment.id)
        ],
    )


def _staff_id(actor: Actor) -> int:
    """Consent to texts is taken by a staff member, who is recorded with it."""
    if actor.user_id is None:
        raise Problem(403, "Forbidden", "Only a staff member may book an appointment.")
    return actor.user_id


def book(context: AppContext, actor: Actor, body: AppointmentIn) -> AppointmentOut:
    """Book a visit for a request; the caller gets a confirmation text and a reminder.
    InvalidField names a number that cannot take texts, a request that cannot be
    reached, or a window that is not in the future."""
    with unit_of_work(context, actor, "appointment.book", object_type="appointment") as work:
        phone = appointments.mobile_number(
            body.phone, context.region, line_type=context.part(Outbound).carrier.line_type
        )
        booking = appointments.Booking(
            request_public_id=body.request_id,
            starts_at=_city_time(context, body.starts_at),
            ends_at=_city_time(context, body.ends_at),
            location=body.location,
            phone=phone,
            language=body.language,
            consent_call_sid=body.call_sid,
            department=body.department,
        )
        appointment, queued = appointments.book(
            work.session,
            context.keyring,
            booking,
            booked_by=_staff_id(actor),
            now=work.now,
            policy=context.part(appointments.TextPolicy),
            hours=context.part(appointments.VisitHours),
        )
        work.object_id = appointment.public_id
        work.note(texts_queued=len(queued), consent_call=bool(body.call_sid))
        result = _out(context, work.session, appointment)
    messaging.send_due(context, queued)
    return result


def preview(context: AppContext, body: PreviewIn) -> Preview:
    """The confirmation text the caller would get, before booking (nothing stored is
    read, so nothing is audited)."""
    # Refused like the booking: the preview echoes what was typed back to the screen.
    ssn.refuse("location", body.location)
    policy = context.part(appointments.TextPolicy)
    text = render(
        "confirmation",
        body.language,
        city=policy.city,
        number=body.request_id,
        window=Window(_city_time(context, body.starts_at), _city_time(context, body.ends_at)),
        place=body.location,
        tz=policy.tz,
    )
    parts = segments.count(text)
    return Preview(text=text, characters=len(text), segments=parts.parts, encoding=parts.encoding)


def of_request(context: AppContext, actor: Actor, request_id: str) -> AppointmentList:
    """A request's appointments with the texts about each, soonest visit first, and the
    hours its department makes visits. NotFound for a request that is not there."""
    with unit_of_work(
        context,
        actor,
        "appointments.of_request",
        object_type="service_request",
        object_id=request_id,
    ) as work:
        request = existing(
            work.session.scalar(
                select(ServiceRequest).where(ServiceRequest.public_id == request_id)
            ),
            "service request",
        )
        if request.anonymous:
            work.object_id = None  # its number beside this agent would tie it to a call
        found = appointments.appointments_of_request(work.session, request.id)
        work.note(results=len(found))
        service = get_service(work.session, request.service_code)
        department = service.department if service else "311"
        hours = context.part(appointments.VisitHours).of(department)
        return AppointmentList(
            items=[_out(context, work.session, appointment) for appointment in found],
            department=department,
            visit_hours=None if hours is None else appointments.describe_hours(hours),
        )


def read(context: AppContext, actor: Actor, public_id: str) -> AppointmentOut:
    """An appointment and the texts about it."""
    with unit_of_work(
        context, actor, "appointment.view", object_type="appointment", object_id=public_id
    ) as work:
        return _out(context, work.session, _found(work.session, public_id))


def _change(
    context: AppContext,
    actor: Actor,
    action: str,
    public_id: str,
    change: Callable[[Work, Appointment], list[int]],
) -> AppointmentOut:
    """Change an appointment (``change`` returns the texts it queued); the texts go once
    the change is committed."""
    with unit_of_work(
        context, actor, action, object_type="appointment", object_id=public_id
    ) as work:
        appointment = _found(work.session, public_id, lock=True)
        queued = change(work, appointment)
        result = _out(context, work.session, appointment)
    messaging.send_due(context, queued)
    return result


def reschedule(
    context: AppContext, actor: Actor, public_id: str, body: RescheduleIn
) -> AppointmentOut:
    """Move the visit; the caller is told, and reminded at the new time. 409 for a
    cancelled appointment."""

    def move(work: Work, appointment: Appointment) -> list[int]:
        return appointments.reschedule(
            work.session,
            context.keyring,
            appointment,
            starts_at=_city_time(context, body.starts_at),
            ends_at=_city_time(context, body.ends_at),
            location=body.location,
            now=work.now,
            policy=context.part(appointments.TextPolicy),
            hours=context.part(appointments.VisitHours),
        )

    return _change(context, actor, "appointment.reschedule", public_id, move)


def cancel(context: AppContext, actor: Actor, public_id: str) -> AppointmentOut:
    """Cancel the visit; pending texts are withdrawn and the caller is told. 409 for an
    appointment already cancelled."""

    def withdraw(work: Work, appointment: Appointment) -> list[int]:
        return appointments.cancel(
            work.session,
            context.keyring,
            appointment,
            now=work.now,
            policy=context.part(appointments.TextPolicy),
        )

    return _change(context, actor, "appointment.cancel", public_id, withdraw)
