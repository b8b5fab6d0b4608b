"""Booking, moving and cancelling appointments, and queueing the texts that go with them.

Texts go only to the mobile number the caller gave for this appointment, with their
consent recorded (who took it, when, on which call); never to a number that opted out;
never in quiet hours (held until they end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.appointments.models import Appointment
from services.directory.hours import BusinessHours
from services.messaging import service as texts
from services.messaging.service import QuietHours
from services.messaging.templates import Window, render
from services.platform import public_ids, ssn
from services.platform.errors import InvalidField, Problem
from services.platform.phones import InvalidPhoneNumber, normalise
from services.requests.catalogue import get_service
from services.requests.models import ServiceRequest
from storage.crypto import FieldContext, Keyring

TEXTABLE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
REFUSED_TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "is a landline and cannot take texts",
    phonenumbers.PhoneNumberType.TOLL_FREE: "is a toll-free number and cannot take texts",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "is a premium-rate number",
    phonenumbers.PhoneNumberType.SHARED_COST: "is a shared-cost number and cannot take texts",
}
TEXTABLE_LINES = frozenset({"mobile", "nonFixedVoip"})
MAX_WINDOW = timedelta(hours=12)


def mobile_number(text: str, region: str, *, line_type: Callable[[str], str | None]) -> str:
    """The E.164 form of a number that can take texts; InvalidField("phone") otherwise.

    phonenumbers' type decides (US numbers read as fixed-line-or-mobile, which passes);
    with carrier lookups on, the carrier's line type decides."""
    try:
        e164 = normalise(text, region)
    except InvalidPhoneNumber as exc:
        raise InvalidField("phone", str(exc)) from exc
    parsed = phonenumbers.parse(e164)
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidField("phone", "is not a number in service")
    kind = phonenumbers.number_type(parsed)
    if kind not in TEXTABLE:
        raise InvalidField("phone", REFUSED_TYPES.get(kind, "cannot take texts"))
    line = line_type(e164)
    if line is not None and line not in TEXTABLE_LINES:
        raise InvalidField("phone", f"the carrier reports a {line} line, which cannot take texts")
    return e164


@dataclass(frozen=True)
class TextPolicy:
    city: str
    tz: ZoneInfo
    quiet: QuietHours
    reminder_lead: timedelta


def _place(appointment: Appointment, column: str) -> FieldContext:
    return FieldContext("appointments", column, appointment.public_id)


def phone_of(keyring: Keyring, appointment: Appointment) -> str:
    return keyring.open(appointment.phone_sealed, _place(appointment, "phone"))


def location_of(keyring: Keyring, appointment: Appointment) -> str:
    return keyring.open(appointment.location_sealed, _place(appointment, "location"))


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _clock(moment: time) -> str:
    if moment == time.max:
        return "midnight"
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{hour}:{moment.minute:02d} {suffix}"


def describe_hours(hours: BusinessHours) -> str:
    """The hours as people say them: "Monday to Friday 8:00 AM to 5:00 PM"; days with
    the same hours are grouped."""
    groups: list[tuple[int, int, tuple[tuple[time, time], ...]]] = []
    for day, windows in enumerate(hours.windows):
        if groups and groups[-1][2] == windows and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, windows)
        else:
            groups.append((day, day, windows))
    parts = []
    for first, last, windows in groups:
        if not windows:
            continue
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]} to {DAY_NAMES[last]}"
        times = " and ".join(f"{_clock(opens)} to {_clock(closes)}" for opens, closes in windows)
        parts.append(f"{days} {times}")
    return "; ".join(parts) or "never"


@dataclass(frozen=True)
class VisitHours:
    """When each department makes visits, in the city's time: a department not named
    uses ``default``; with no hours at all, any time may be booked."""

    tz: ZoneInfo
    default: BusinessHours | None = None
    departments: dict[str, BusinessHours] = field(default_factory=dict)

    def of(self, department: str) -> BusinessHours | None:
        return self.departments.get(department, self.default)

    def check(self, department: str, starts_at: datetime, ends_at: datetime) -> None:
        """InvalidField("starts_at") for a visit that does not fall inside one of the
        department's opening windows on its day, saying what the hours are."""
        hours = self.of(department)
        if hours is None:
            return
        start, end = starts_at.astimezone(self.tz), ends_at.astimezone(self.tz)
        day = start.weekday()
        same_day = end.date() == start.date() or (
            end.date() == (start + timedelta(days=1)).date() and end.time() == time(0, 0)
        )
        closing = time.max if end.date() != start.date() else end.time()
        if same_day and any(
            opens <= start.time() and closing <= closes for opens, closes in hours.windows[day]
        ):
            return
        raise InvalidField(
            "starts_at",
            f"{department} makes visits {describe_hours(hours)}: choose a time within those hours.",
        )


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidField("ends_at", "must be after starts_at")
    if ends_at - starts_at > MAX_WINDOW:
        raise InvalidField("ends_at", "a visit window is at most 12 hours")
    if starts_at <= now:
        raise InvalidField("starts_at", "must be in the future")


def message_text(
    kind: str,
    appointment: Appointment,
    request: ServiceRequest,
    keyring: Keyring,
    policy: TextPolicy,
) -> str:
    return render(
        kind,
        appointment.language,
        city=policy.city,
        number=request.public_id,
        window=Window(appointment.starts_at, appointment.ends_at),
        place=location_of(keyring, appointment),
        tz=policy.tz,
    )


def _queue(
    session: Session,
    keyring: Keyring,
    appointment: Appointment,
    request: ServiceRequest,
    kind: str,
    *,
    at: datetime,
    now: datetime,
    policy: TextPolicy,
) -> int | None:
    return texts.queue_text(
        session,
        keyring,
        key=f"{appointment.public_id}:{kind}:v{appointment.version}",
        kind=kind,
        to=phone_of(keyring, appointment),
        body=message_text(kind, appointment, request, keyring, policy),
        language=appointment.language,
        appointment_id=appointment.id,
        not_before=policy.quiet.release(at),
        now=now,
    )


def _queue_notice_and_reminder(
    session: Session,
    keyring: Keyring,
    appointment: Appointment,
    request: ServiceRequest,
    kind: str,
    *,
    now: datetime,
    policy: TextPolicy,
) -> list[int]:
    queued = [_queue(session, keyring, appointment, request, kind, at=now, now=now, policy=policy)]
    remind_at = appointment.starts_at - policy.reminder_lead
    if remind_at > now:
        queued.append(
            _queue(
                session,
                keyring,
                appointment,
                request,
                "reminder",
                at=remind_at,
                now=now,
                policy=policy,
            )
        )
    return [message for message in queued if message is not None]


@dataclass(frozen=True)
class Booking:
    request_public_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    phone: str  # E.164, checked by mobile_number
    language: str
    consent_call_sid: str | None
    department: str | None = None


def book(
    session: Session,
    keyring: Keyring,
    booking: Booking,
    *,
    booked_by: int,
    now: datetime,
    policy: TextPolicy,
    hours: VisitHours | None = None,
) -> tuple[Appointment, list[int]]:
    """Book a visit for a request and queue its confirmation and reminder; returns the
    appointment and the ids of texts to send now."""
    # Locked: of two bookings of the same visit at once, the second finds the first.
    request = session.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.public_id == booking.request_public_id)
        .with_for_update()
    )
    if request is None:
        raise InvalidField("request_id", "is not a service request")
    if request.anonymous:
        raise InvalidField("request_id", "is anonymous: the city holds no way to reach the caller")
    check_window(booking.starts_at, booking.ends_at, now)
    ssn.refuse("location", booking.location)
    ssn.refuse("department", booking.department)
    service = get_service(session, request.service_code)
    department = booking.department or (service.department if service else "311")
    if hours is not None:
        hours.check(department, booking.starts_at, booking.ends_at)
    if texts.is_opted_out(session, keyring, booking.phone):
        raise InvalidField(
            "phone", "has opted out of texts (the caller can text START to opt back in)"
        )
    phone_index = keyring.blind_index("phone", booking.phone)
    same_window = session.scalars(
        select(Appointment).where(
            Appointment.request_id == request.id,
            Appointment.status != "cancelled",
            Appointment.starts_at == booking.starts_at,
            Appointment.ends_at == booking.ends_at,
            Appointment.phone_index == phone_index,
            Appointment.department == department,
            Appointment.language == ("es" if booking.language == "es" else "en"),
        )
    )
    for booked in same_window:
        if location_of(keyring, booked) == booking.location.strip():
            # The same visit again is a retry (a double click, a client that did not
            # hear the answer), not a second visit: the caller would be texted twice.
            raise Problem(
                409, "Already booked", f"This visit is already booked as {booked.public_id}."
            )
    appointment = Appointment(
        public_id=public_ids.public_id("AP", 5, 5),
        request_id=request.id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        department=department,
        language="es" if booking.language == "es" else "en",
        consent_at=now,
        consent_by_id=booked_by,
        consent_call_sid=booking.consent_call_sid,
        status="booked",
        version=1,
        created_by_id=booked_by,
        created_at=now,
        updated_at=now,
        location_sealed=b"",
        phone_sealed=b"",
        phone_index=phone_index,
    )
    appointment.location_sealed = keyring.seal(
        booking.location.strip(), _place(appointment, "location")
    )
    appointment.phone_sealed = keyring.seal(booking.phone, _place(appointment, "phone"))
    session.add(appointment)
    session.flush()
    return appointment, _queue_notice_and_reminder(
        session, keyring, appointment, request, "confirmation", now=now, policy=policy
    )


def appointments_of_request(session: Session, request_id: int) -> list[Appointment]:
    """A request's appointments, soonest visit first."""
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.request_id == request_id)
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def get_appointment(session: Session, public_id: str, *, lock: bool = False) -> Appointment | None:
    """The appointment by its public id; ``lock`` holds its row until the transaction
    ends (on PostgreSQL; SQLite writes one at a time already)."""
    query = select(Appointment).where(Appointment.public_id == public_id)
    return session.scalar(query.with_for_update() if lock else query)


def _live(session: Session, appointment: Appointment) -> ServiceRequest:
    if appointment.status == "cancelled":
        raise Problem(409, "Conflict", "The appointment is cancelled.")
    request = session.get(ServiceRequest, appointment.request_id)
    assert request is not None
    return request


def reschedule(
    session: Session,
    keyring: Keyring,
    appointment: Appointment,
    *,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None,
    now: datetime,
    policy: TextPolicy,
    hours: VisitHours | None = None,
) -> list[int]:
    """Move an appointment: the old reminder is withdrawn, a notice and a new reminder
    queued. 409 for a move to where and when it already is (a retry)."""
    request = _live(session, appointment)
    if (starts_at, ends_at) == (appointment.starts_at, appointment.ends_at) and (
        not location or location.strip() == location_of(keyring, appointment)
    ):
        raise Problem(409, "Already there", "The visit is already at that time and place.")
    check_window(starts_at, ends_at, now)
    if hours is not None:
        hours.check(appointment.department, starts_at, ends_at)
    texts.cancel_pending(session, appointment_id=appointment.id, kinds=("reminder",), now=now)
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    if location:
        ssn.refuse("location", location)
        appointment.location_sealed = keyring.seal(
            location.strip(), _place(appointment, "location")
        )
    appointment.version += 1
    appointment.updated_at = now
    session.flush()
    return _queue_notice_and_reminder(
        session, keyring, appointment, request, "reschedule", now=now, policy=policy
    )


def cancel(
    session: Session,
    keyring: Keyring,
    appointment: Appointment,
    *,
    now: datetime,
    policy: TextPolicy,
) -> list[int]:
    """Cancel: pending texts are withdrawn and a cancellation notice queued."""
    request = _live(session, appointment)
    texts.cancel_pending(
        session,
        appointment_id=appointment.id,
        kinds=("confirmation", "reminder", "reschedule"),
        now=now,
    )
    appointment.status = "cancelled"
    appointment.updated_at = now
    queued = _queue(
        session, keyring, appointment, request, "cancellation", at=now, now=now, policy=policy
    )
    return [] if queued is None else [queued]
