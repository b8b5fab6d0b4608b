"""What appointments hold about people: where the visit is and the mobile number its
texts go to, both sealed; the number is blind-indexed so a person's visits are found."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.appointments.models import Appointment
from services.appointments.service import location_of
from services.messaging.models import TextMessage
from services.platform.personal_data import (
    APPOINTMENTS,
    PHONES,
    SERVICE_REQUESTS,
    ExportSection,
    Found,
    FreeText,
    Indexed,
    PersonalData,
    PurgeStep,
    Sweep,
    deleted,
    find_by_index,
    local_time,
    sealed_fields,
)
from services.requests.personal_data import purge_with_expired_requests
from storage.crypto import Keyring


def _links(session: Session, found: Found) -> None:
    """A request reaches its appointments; an appointment, the number its texts go to."""
    found.link(session, SERVICE_REQUESTS, Appointment.request_id, APPOINTMENTS, Appointment.id)
    found.link(session, APPOINTMENTS, Appointment.id, PHONES, Appointment.phone_index)


def _export(session: Session, keyring: Keyring, found: Found, tz: ZoneInfo) -> list[dict[str, Any]]:
    appointments = found.rows(
        session, APPOINTMENTS, Appointment.id, Appointment.starts_at, Appointment.id
    )
    return [
        {
            "id": appointment.public_id,
            "starts_at": local_time(appointment.starts_at, tz),
            "ends_at": local_time(appointment.ends_at, tz),
            "place": location_of(keyring, appointment),
            "status": appointment.status,
            "consent_recorded_at": local_time(appointment.consent_at, tz),
        }
        for appointment in appointments
    ]


def _destroy(session: Session, ids: list[int]) -> int:
    session.execute(delete(TextMessage).where(TextMessage.appointment_id.in_(ids)))
    return deleted(session.execute(delete(Appointment).where(Appointment.id.in_(ids))))


def _purge(sweep: Sweep) -> None:
    """The appointments of expired requests, with their texts, go before the requests."""
    purge_with_expired_requests(sweep, "appointments", Appointment.request_id, _destroy)


PERSONAL_DATA = PersonalData(
    feature="appointments",
    sealed=sealed_fields(
        Appointment, Appointment.public_id, "location", "phone", typed=("location",)
    ),
    indexes=(Indexed(Appointment.phone_index, "phone"),),
    free_text=(FreeText(Appointment.department, personal=False),),
    purge=(PurgeStep("service_requests", 69, _purge),),
    find=find_by_index(APPOINTMENTS, Appointment.id, Appointment.phone_index, "phone"),
    links=_links,
    export=(
        ExportSection(
            "appointments",
            "Appointments",
            40,
            _export,
            columns=(
                ("starts_at", "From"),
                ("ends_at", "To"),
                ("place", "Where"),
                ("status", "Status"),
            ),
        ),
    ),
)
