"""What service requests hold about people: the contact a caller chose to give (sealed,
found through blind indexes), the free text of descriptions, locations and notes. An
anonymous request holds none of it and is never found by anyone's keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.platform.personal_data import (
    CALLS,
    SERVICE_REQUESTS,
    ExportSection,
    Found,
    FreeText,
    Indexed,
    PersonalData,
    PersonKey,
    PurgeStep,
    RecordClass,
    Sweep,
    deleted,
    local_time,
    sealed_fields,
)
from services.requests import catalogue
from services.requests.models import (
    ContactNameToken,
    RequestCall,
    RequestContact,
    RequestStatusChange,
    ServiceRequest,
    ServiceType,
)
from services.requests.service import SearchKey, contact_view, search_requests
from storage.crypto import Keyring


def _find(session: Session, keyring: Keyring, keys: Sequence[PersonKey], found: Found) -> None:
    """Requests by any of the person's keys, the way agents search (anonymous ones have
    no contact, so none is ever found)."""
    for key in keys:
        requests = search_requests(
            # Terms are already normalised: an E.164 number needs no region.
            session,
            keyring,
            SearchKey(key.kind, key.term),
            region="",
            limit=None,
        )
        found.add(SERVICE_REQUESTS, (request.id for request in requests))


def _links(session: Session, found: Found) -> None:
    """A request reaches the calls it was filed on."""
    found.link(session, SERVICE_REQUESTS, RequestCall.request_id, CALLS, RequestCall.call_sid)


def _request_out(
    session: Session, keyring: Keyring, request: ServiceRequest, tz: ZoneInfo
) -> dict[str, Any]:
    service = catalogue.get_service(session, request.service_code)
    contact = contact_view(keyring, request)
    return {
        "id": request.public_id,
        "service": service.name if service else request.service_code,
        "description": request.description,
        "location": request.address,
        "status": request.status,
        "channel": request.channel,
        "filed_at": local_time(request.created_at, tz),
        "closed_at": local_time(request.closed_at, tz),
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
                "at": local_time(change.changed_at, tz),
                "status": change.status,
                "note": change.note,
                "internal": not change.public,
            }
            for change in request.history
        ],
        "calls": [link.call_sid for link in request.calls],
    }


def _export(session: Session, keyring: Keyring, found: Found, tz: ZoneInfo) -> list[dict[str, Any]]:
    requests = found.rows(
        session,
        SERVICE_REQUESTS,
        ServiceRequest.id,
        ServiceRequest.created_at,
        ServiceRequest.id,
        where=[ServiceRequest.anonymous.is_(False)],
    )
    return [_request_out(session, keyring, request, tz) for request in requests]


def _destroy_requests(session: Session, ids: list[int]) -> int:
    contacts = select(RequestContact.id).where(RequestContact.request_id.in_(ids))
    session.execute(delete(ContactNameToken).where(ContactNameToken.contact_id.in_(contacts)))
    session.execute(delete(RequestContact).where(RequestContact.request_id.in_(ids)))
    session.execute(delete(RequestStatusChange).where(RequestStatusChange.request_id.in_(ids)))
    session.execute(delete(RequestCall).where(RequestCall.request_id.in_(ids)))
    return deleted(session.execute(delete(ServiceRequest).where(ServiceRequest.id.in_(ids))))


def expired_requests(sweep: Sweep) -> Any:
    """Closed requests past their schedule (the appointments of these go first)."""
    return select(ServiceRequest.id).where(
        ServiceRequest.status == "closed",
        ServiceRequest.closed_at.is_not(None),
        ServiceRequest.closed_at < sweep.cutoff("service_requests"),
    )


def purge_with_expired_requests(
    sweep: Sweep,
    name: str,
    request_id: Any,
    destroy: Callable[[Session, list[Any]], int],
    *,
    counted: bool = True,
) -> None:
    """Destroy (or, dry, count) as ``name`` the rows of ``request_id``'s model that belong
    to expired requests (they go before the requests), keeping those of held requests."""
    model = request_id.class_
    sweep.walk(
        name,
        select(model.id, request_id).where(request_id.in_(expired_requests(sweep))),
        model.id,
        destroy,
        keep=lambda row: row[1] in sweep.held[SERVICE_REQUESTS],
        counted=counted,
    )


def _purge(sweep: Sweep) -> None:
    sweep.walk(
        "service_requests",
        expired_requests(sweep),
        ServiceRequest.id,
        _destroy_requests,
        keep=lambda row: row[0] in sweep.held[SERVICE_REQUESTS],
    )


PERSONAL_DATA = PersonalData(
    feature="requests",
    sealed=sealed_fields(
        RequestContact,
        ServiceRequest.public_id,
        "name",
        "phone",
        "email",
        "address",
        typed=("name", "email", "address"),
        join=(ServiceRequest, ServiceRequest.id == RequestContact.request_id),
    ),
    indexes=(
        Indexed(RequestContact.phone_index, "phone"),
        Indexed(RequestContact.email_index, "email"),
        Indexed(RequestContact.address_index, "address"),
        Indexed(ContactNameToken.token_index, "name-token"),
    ),
    free_text=(
        FreeText(ServiceRequest.description, personal=True),
        FreeText(ServiceRequest.address, personal=True),
        FreeText(ServiceRequest.address_key, personal=True, typed=False),  # of address
        FreeText(ServiceRequest.status_notes, personal=True),
        FreeText(ServiceRequest.public_description, personal=True),
        FreeText(ServiceRequest.media_url, personal=True),  # the public's link, published
        FreeText(RequestStatusChange.note, personal=True),
        FreeText(ServiceRequest.possible_duplicates, personal=False, typed=False),  # ids
        FreeText(ServiceType.name, personal=False),
        FreeText(ServiceType.description, personal=False),
        FreeText(ServiceType.department, personal=False),
        FreeText(ServiceType.group, personal=False),
        FreeText(ServiceType.keywords, personal=False),
    ),
    record_classes=(
        RecordClass(
            "service_requests",
            "closed service requests, their contacts and appointments",
            "closure",
            3,
            "years",
        ),
    ),
    purge=(PurgeStep("service_requests", 70, _purge),),
    find=_find,
    links=_links,
    export=(
        ExportSection(
            "service_requests",
            "Service requests",
            10,
            _export,
            columns=(
                ("id", "Request"),
                ("service", "Service"),
                ("filed_at", "Filed"),
                ("channel", "How"),
                ("status", "Status"),
                ("closed_at", "Closed"),
                ("location", "Where"),
                ("description", "Description"),
                ("contact", "Your contact details"),
                ("history", "History"),
            ),
        ),
    ),
)
