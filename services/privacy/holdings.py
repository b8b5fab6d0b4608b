"""Everything the city holds about a person, found the way agents find it: by phone,
email, name and home address through the blind indexes, each candidate confirmed by
decryption. Anonymous requests hold nothing that could match anyone, so they are never
found; the letters say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.appointments.models import Appointment
from services.appointments.service import location_of
from services.calls.models import Call
from services.calls.service import party_number
from services.messaging.models import InboundText, TextMessage, TextOptOut
from services.messaging.service import body_of, inbound_body
from services.privacy.service import Requester
from services.recordings.models import Recording
from services.requests.catalogue import get_service
from services.requests.models import RequestCall, ServiceRequest
from services.requests.service import (
    contact_view,
    normalised_term,
    search_requests,
)
from storage.crypto import Keyring

NOT_INCLUDED = (
    "Requests made anonymously are not included: the city keeps no name, number, email, "
    "address or call with them, so they cannot be matched to anyone, including you."
)


@dataclass
class Holdings:
    searched_by: list[str]
    service_requests: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    appointments: list[dict[str, Any]] = field(default_factory=list)
    texts_sent: list[dict[str, Any]] = field(default_factory=list)
    texts_received: list[dict[str, Any]] = field(default_factory=list)
    texts_opted_out: bool | None = None
    not_included: str = NOT_INCLUDED

    def counts(self) -> dict[str, int]:
        return {
            "service_requests": len(self.service_requests),
            "calls": len(self.calls),
            "recordings": len(self.recordings),
            "appointments": len(self.appointments),
            "texts_sent": len(self.texts_sent),
            "texts_received": len(self.texts_received),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "searched_by": self.searched_by,
            "service_requests": self.service_requests,
            "calls": self.calls,
            "recordings": self.recordings,
            "appointments": self.appointments,
            "texts_sent": self.texts_sent,
            "texts_received": self.texts_received,
            "texts_opted_out": self.texts_opted_out,
            "not_included": self.not_included,
        }


def _local(instant: datetime | None, tz: ZoneInfo) -> str | None:
    return None if instant is None else instant.astimezone(tz).isoformat()


def _request_out(
    session: Session, keyring: Keyring, request: ServiceRequest, tz: ZoneInfo
) -> dict[str, Any]:
    service = get_service(session, request.service_code)
    contact = contact_view(keyring, request)
    return {
        "id": request.public_id,
        "service": service.name if service else request.service_code,
        "description": request.description,
        "location": request.address,
        "status": request.status,
        "channel": request.channel,
        "filed_at": _local(request.created_at, tz),
        "closed_at": _local(request.closed_at, tz),
        "contact": None
        if contact is None
        else {
            "name": contact.name,
            "phone": contact.phone,
            "email": contact.email,
            "address": contact.address,
        },
        "history": [
            {
                "status": change.status,
                "at": _local(change.changed_at, tz),
                "note": change.note,
                "internal": not change.public,
            }
            for change in request.history
        ],
        "calls": [link.call_sid for link in request.calls],
    }


def find_holdings(
    session: Session, keyring: Keyring, requester: Requester, *, region: str, tz: ZoneInfo
) -> Holdings:
    keys = requester.keys()
    holdings = Holdings(searched_by=[key.kind for key in keys])
    requests: dict[int, ServiceRequest] = {}
    for key in keys:
        for request in search_requests(session, keyring, key, region=region, limit=None):
            requests[request.id] = request
    ordered = sorted(requests.values(), key=lambda r: (r.created_at, r.id))
    holdings.service_requests = [_request_out(session, keyring, r, tz) for r in ordered]

    phone = next((key for key in keys if key.kind == "phone"), None)
    call_sids: set[str] = set()
    if requests:
        call_sids.update(
            session.scalars(
                select(RequestCall.call_sid).where(RequestCall.request_id.in_(list(requests)))
            )
        )
    index: bytes | None = None
    if phone is not None:
        number = normalised_term(phone, region)
        index = keyring.blind_index("phone", number)
        for call in session.scalars(select(Call).where(Call.from_index == index)):
            if party_number(keyring, call, "from") == number:
                call_sids.add(call.call_sid)
    calls = (
        list(
            session.scalars(
                select(Call).where(Call.call_sid.in_(call_sids)).order_by(Call.started_at)
            )
        )
        if call_sids
        else []
    )
    holdings.calls = [
        {
            "call_sid": call.call_sid,
            "from": party_number(keyring, call, "from"),
            "started_at": _local(call.started_at, tz),
            "answered_at": _local(call.answered_at, tz),
            "ended_at": _local(call.ended_at, tz),
            "duration_seconds": call.duration_seconds,
            "extension": call.extension,
            "status": call.status,
        }
        for call in calls
    ]
    if call_sids:
        holdings.recordings = [
            {
                "recording_sid": recording.recording_sid,
                "call_sid": recording.call_sid,
                "started_at": _local(recording.started_at, tz),
                "duration_seconds": recording.duration_seconds or recording.twilio_duration_seconds,
                "kept": recording.wrapped_key is not None,
            }
            for recording in session.scalars(
                select(Recording)
                .where(Recording.call_sid.in_(call_sids))
                .order_by(Recording.started_at)
            )
        ]
    if index is not None:
        holdings.appointments = [
            {
                "id": appointment.public_id,
                "starts_at": _local(appointment.starts_at, tz),
                "ends_at": _local(appointment.ends_at, tz),
                "place": location_of(keyring, appointment),
                "status": appointment.status,
                "consent_recorded_at": _local(appointment.consent_at, tz),
            }
            for appointment in session.scalars(
                select(Appointment)
                .where(Appointment.phone_index == index)
                .order_by(Appointment.starts_at)
            )
        ]
        holdings.texts_sent = [
            {
                "kind": text.kind,
                "queued_at": _local(text.created_at, tz),
                "state": text.state,
                "body": body_of(keyring, text),
            }
            for text in session.scalars(
                select(TextMessage)
                .where(TextMessage.to_index == index)
                .order_by(TextMessage.created_at)
            )
        ]
        holdings.texts_received = [
            {"received_at": _local(text.received_at, tz), "body": inbound_body(keyring, text)}
            for text in session.scalars(
                select(InboundText)
                .where(InboundText.from_index == index)
                .order_by(InboundText.received_at)
            )
        ]
        opt_out = session.scalar(select(TextOptOut).where(TextOptOut.phone_index == index))
        holdings.texts_opted_out = bool(opt_out and opt_out.opted_out)
    return holdings
