"""Staff API: appointments, a preview of their texts, the outbox and callers' replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.appointments import service as appointments
from services.appointments.models import Appointment
from services.messaging import service as texts
from services.messaging.models import InboundText, TextMessage
from services.messaging.sending import Outbound
from services.messaging.templates import Window, render
from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import AppContext, ContextDep
from services.platform.errors import NotFound
from services.platform.params import CALL_SID_PATTERN, MAX_ROW_ID
from services.requests import service as requests
from services.requests.models import ServiceRequest

router = APIRouter(tags=["appointments"])
AppointmentId = Annotated[str, Path(pattern=r"^AP-[0-9A-Z]{5}-[0-9A-Z]{5}$")]


def text_policy(context: AppContext) -> appointments.TextPolicy:
    return context.part(appointments.TextPolicy)


def _local(context: AppContext, instant: datetime) -> datetime:
    """An instant from the API: with an offset as given; without one, in the city's time."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=context.city_tz)
    return instant


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
    starts_at: datetime = Field(description="Start of the visit window (city time if no offset)")
    ends_at: datetime
    location: str = Field(min_length=3, max_length=255)
    phone: str = Field(
        min_length=3, max_length=64, description="The mobile number the caller gave for texts"
    )
    language: Literal["en", "es"] = "en"
    consent: bool = Field(description="The caller agreed to texts about this appointment")
    call_sid: str | None = Field(
        default=None, pattern=CALL_SID_PATTERN, description="The call consent was given on"
    )
    department: str | None = Field(default=None, max_length=120)

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the caller must agree to texts before any is sent")
        return value


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
    starts_at: datetime
    ends_at: datetime
    location: str = Field(min_length=3, max_length=255)
    language: Literal["en", "es"] = "en"


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime
    ends_at: datetime
    location: str | None = Field(default=None, min_length=3, max_length=255)


class TextOut(BaseModel):
    id: int
    kind: str
    to: str
    body: str
    language: str
    state: str
    not_before: datetime
    sent_at: datetime | None
    twilio_status: str | None
    error_code: str | None
    failure: str | None
    gateway: str | None


class AppointmentOut(BaseModel):
    id: str
    request_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    department: str
    phone: str
    language: str
    status: str
    consent_at: datetime
    consent_call_sid: str | None
    texts: list[TextOut]


class Preview(BaseModel):
    text: str
    characters: int


def _text_out(context: AppContext, message: TextMessage) -> TextOut:
    tz = context.city_tz
    return TextOut(
        id=message.id,
        kind=message.kind,
        to=texts.recipient(context.keyring, message),
        body=texts.body_of(context.keyring, message),
        language=message.language,
        state=message.state,
        not_before=message.not_before.astimezone(tz),
        sent_at=message.sent_at.astimezone(tz) if message.sent_at else None,
        twilio_status=message.twilio_status,
        error_code=message.error_code,
        failure=message.failure,
        gateway=message.gateway,
    )


def _out(context: AppContext, session: Session, appointment: Appointment) -> AppointmentOut:
    request = session.get(ServiceRequest, appointment.request_id)
    messages = session.scalars(
        select(TextMessage)
        .where(TextMessage.appointment_id == appointment.id)
        .order_by(TextMessage.id)
    )
    tz = context.city_tz
    return AppointmentOut(
        id=appointment.public_id,
        request_id=request.public_id if request else "",
        starts_at=appointment.starts_at.astimezone(tz),
        ends_at=appointment.ends_at.astimezone(tz),
        location=appointments.location_of(context.keyring, appointment),
        department=appointment.department,
        phone=appointments.phone_of(context.keyring, appointment),
        language=appointment.language,
        status=appointment.status,
        consent_at=appointment.consent_at.astimezone(tz),
        consent_call_sid=appointment.consent_call_sid,
        texts=[_text_out(context, m) for m in messages],
    )


def _send_now(context: AppContext, message_ids: list[int]) -> None:
    now = context.clock.now()
    with context.db() as session:
        ready = [
            m.id
            for m in session.scalars(select(TextMessage).where(TextMessage.id.in_(message_ids)))
            if m.not_before <= now
        ]
    for message_id in ready:
        context.jobs.enqueue("sms.send", {"message_id": message_id})


@router.post("/api/appointments", status_code=201, response_model=AppointmentOut)
def book_appointment(
    body: AppointmentIn,
    staff: Annotated[Staff, Depends(require(Permission.APPOINTMENTS_MANAGE))],
    context: ContextDep,
) -> AppointmentOut:
    """Book a visit for a request; the caller gets a confirmation text and a reminder."""
    now = context.clock.now()
    phone = appointments.mobile_number(
        body.phone, context.region, line_type=context.part(Outbound).carrier.line_type
    )
    booking = appointments.Booking(
        request_public_id=body.request_id,
        starts_at=_local(context, body.starts_at),
        ends_at=_local(context, body.ends_at),
        location=body.location,
        phone=phone,
        language=body.language,
        consent_call_sid=body.call_sid,
        department=body.department,
    )
    with context.db.begin() as session:
        appointment, queued = appointments.book(
            session,
            context.keyring,
            booking,
            booked_by=staff.user_id,
            now=now,
            policy=text_policy(context),
        )
        audit.record(
            session,
            actor=staff.actor,
            action="appointment.book",
            at=now,
            object_type="appointment",
            object_id=appointment.public_id,
            detail={"texts_queued": len(queued), "consent_call": bool(body.call_sid)},
        )
        result = _out(context, session, appointment)
    _send_now(context, queued)
    return result


@router.post("/api/appointments/preview", response_model=Preview)
def preview_text(
    body: PreviewIn,
    staff: Annotated[Staff, Depends(require(Permission.APPOINTMENTS_MANAGE))],
    context: ContextDep,
) -> Preview:
    """The confirmation text the caller would get, before booking."""
    policy = text_policy(context)
    text = render(
        "confirmation",
        body.language,
        city=policy.city,
        number=body.request_id,
        window=Window(_local(context, body.starts_at), _local(context, body.ends_at)),
        place=body.location,
        tz=policy.tz,
    )
    return Preview(text=text, characters=len(text))


def _appointment(session: Session, public_id: str) -> Appointment:
    found = session.scalar(select(Appointment).where(Appointment.public_id == public_id))
    if found is None:
        raise NotFound("appointment")
    return found


@router.get("/api/appointments/{appointment_id}", response_model=AppointmentOut)
def read_appointment(
    appointment_id: AppointmentId,
    staff: Annotated[Staff, Depends(require(Permission.APPOINTMENTS_MANAGE))],
    context: ContextDep,
) -> AppointmentOut:
    """An appointment and the texts about it."""
    with context.db.begin() as session:
        appointment = _appointment(session, appointment_id)
        audit.record(
            session,
            actor=staff.actor,
            action="appointment.view",
            at=context.clock.now(),
            object_type="appointment",
            object_id=appointment_id,
        )
        return _out(context, session, appointment)


@router.post("/api/appointments/{appointment_id}/reschedule", response_model=AppointmentOut)
def reschedule_appointment(
    appointment_id: AppointmentId,
    body: RescheduleIn,
    staff: Annotated[Staff, Depends(require(Permission.APPOINTMENTS_MANAGE))],
    context: ContextDep,
) -> AppointmentOut:
    """Move the visit; the caller is told, and reminded at the new time."""
    now = context.clock.now()
    with context.db.begin() as session:
        appointment = _appointment(session, appointment_id)
        queued = appointments.reschedule(
            session,
            context.keyring,
            appointment,
            starts_at=_local(context, body.starts_at),
            ends_at=_local(context, body.ends_at),
            location=body.location,
            now=now,
            policy=text_policy(context),
        )
        audit.record(
            session,
            actor=staff.actor,
            action="appointment.reschedule",
            at=now,
            object_type="appointment",
            object_id=appointment_id,
        )
        result = _out(context, session, appointment)
    _send_now(context, queued)
    return result


@router.post("/api/appointments/{appointment_id}/cancel", response_model=AppointmentOut)
def cancel_appointment(
    appointment_id: AppointmentId,
    staff: Annotated[Staff, Depends(require(Permission.APPOINTMENTS_MANAGE))],
    context: ContextDep,
) -> AppointmentOut:
    """Cancel the visit; pending texts are withdrawn and the caller is told."""
    now = context.clock.now()
    with context.db.begin() as session:
        appointment = _appointment(session, appointment_id)
        queued = appointments.cancel(
            session, context.keyring, appointment, now=now, policy=text_policy(context)
        )
        audit.record(
            session,
            actor=staff.actor,
            action="appointment.cancel",
            at=now,
            object_type="appointment",
            object_id=appointment_id,
        )
        result = _out(context, session, appointment)
    _send_now(context, queued)
    return result


class Outbox(BaseModel):
    items: list[TextOut]
    next_before_id: int | None


@router.get("/api/messages/outbox", response_model=Outbox)
def outbox(
    staff: Annotated[Staff, Depends(require(Permission.MESSAGES_READ))],
    context: ContextDep,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Outbox:
    """Texts sent or waiting, newest first: with the console gateway, this is where they go."""
    with context.db.begin() as session:
        query = select(TextMessage).order_by(TextMessage.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(TextMessage.id < before_id)
        items = [_text_out(context, message) for message in session.scalars(query)]
        audit.record(
            session,
            actor=staff.actor,
            action="messages.outbox",
            at=context.clock.now(),
            object_type="text_message",
            detail={"results": len(items)},
        )
    return Outbox(items=items, next_before_id=items[-1].id if len(items) == limit else None)


class InboundOut(BaseModel):
    id: int
    sender: str
    body: str
    keyword: str | None
    received_at: datetime
    earlier_requests: list[str] = Field(description="The sender's earlier requests, by number")


@router.get("/api/messages/inbound", response_model=list[InboundOut])
def inbound(
    staff: Annotated[Staff, Depends(require(Permission.MESSAGES_READ))],
    context: ContextDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[InboundOut]:
    """Texts callers sent, newest first, each with the sender's earlier requests."""
    region = context.region
    with context.db.begin() as session:
        rows = session.scalars(
            select(InboundText).order_by(InboundText.id.desc()).limit(limit)
        ).all()
        items = []
        for row in rows:
            sender = texts.inbound_sender(context.keyring, row)
            earlier = requests.search_requests(
                session,
                context.keyring,
                requests.SearchKey("phone", sender),
                region=region,
                limit=10,
            )
            items.append(
                InboundOut(
                    id=row.id,
                    sender=sender,
                    body=texts.inbound_body(context.keyring, row),
                    keyword=row.keyword,
                    received_at=row.received_at.astimezone(context.city_tz),
                    earlier_requests=[r.public_id for r in earlier],
                )
            )
        audit.record(
            session,
            actor=staff.actor,
            action="messages.inbound",
            at=context.clock.now(),
            object_type="inbound_text",
            detail={"results": len(items)},
        )
    return items
