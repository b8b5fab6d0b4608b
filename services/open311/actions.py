"""Open311 GeoReport v2, one function per use case. What the public reads (the catalogue,
requests with their public description) is public and not audited; a civic app's
submission is filed through the requests' own action, audited with the app's key as its
actor; issuing and revoking keys is audited configuration.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.contacts import actions as contact_actions
from services.open311 import api_keys as keys
from services.open311 import service as open311
from services.open311.render import FORMATS
from services.open311.schemas import IssuedKey, KeyOut
from services.open311.service import MAX_RESULTS
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import NotFound, Problem, existing
from services.requests import actions as request_actions
from services.requests import catalogue
from services.requests import service as requests
from services.requests.models import ServiceRequest, ServiceType
from services.requests.service import NewRequest

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The catalogue as first seeded; staff changes to it move the changeset on.
SEEDED = datetime(2026, 11, 22, tzinfo=UTC)
DEFAULT_DAYS = 90


def _local(context: AppContext, instant: datetime | None) -> str | None:
    """An instant in the city's time, to the second (GeoReport's W3C date-time)."""
    if instant is None:
        return None
    return instant.astimezone(context.city_tz).replace(microsecond=0).isoformat()


def _service_item(service: ServiceType) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        "metadata": False,
        "type": "realtime",
        "keywords": service.keywords,
        "group": service.group,
    }


def _request_item(
    context: AppContext, request: ServiceRequest, services: dict[str, ServiceType]
) -> dict[str, Any]:
    service = services.get(request.service_code)
    # Free text only as PUBLIC_TEXT allows, and always through the personal-data filter.
    policy = context.part(requests.PublicText)
    lat, long = requests.public_point(request)
    return {
        "service_request_id": request.public_id,
        "status": "closed" if request.status == "closed" else "open",
        "status_notes": requests.public_status_notes(
            context.keyring, request, context.region, policy
        ),
        "service_name": service.name if service else None,
        "service_code": request.service_code,
        "description": requests.public_description(
            context.keyring, request, context.region, policy
        ),
        "agency_responsible": service.department if service else None,
        "service_notice": None,
        "requested_datetime": _local(context, request.created_at),
        "updated_datetime": _local(context, request.updated_at),
        "expected_datetime": None,
        "address": requests.public_address(request),
        "address_id": request.address_id,
        "zipcode": None,
        "lat": lat,
        "long": long,
        "media_url": request.media_url,
    }


def _services_by_code(session: Session) -> dict[str, ServiceType]:
    return {
        service.code: service for service in catalogue.list_services(session, include_inactive=True)
    }


# -- what the public reads -------------------------------------------------------------


def discovery(context: AppContext) -> dict[str, Any]:
    """Where this endpoint is and what it speaks; ``changeset`` is when the catalogue
    last changed, so clients know to read the services again."""
    with context.db() as session:
        changed = catalogue.last_changed(session)
    changeset = max(SEEDED, changed or SEEDED).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "changeset": changeset,
        "contact": f"{context.city.name} 311",
        "key_service": "Ask the city's 311 office for an API key to submit requests.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{context.city.public_url}/open311/v2",
                "changeset": changeset,
                "type": "production",
                "formats": list(FORMATS.values()),
                # Not in GeoReport v2 itself: what a query returns without page_size,
                # and the most it may ask for.
                "max_requests": MAX_RESULTS,
            }
        ],
    }


def list_services(context: AppContext) -> list[dict[str, Any]]:
    """The services a request can be filed for."""
    with context.db() as session:
        return [_service_item(service) for service in catalogue.list_services(session)]


def service_definition(context: AppContext, code: str) -> dict[str, Any]:
    """A service's extra attributes (none: every service takes a description);
    NotFound for a code that is not an active service."""
    with context.db() as session:
        service = catalogue.get_service(session, code)
    if service is None or not service.active:
        raise NotFound("service")
    return {"service_code": code, "attributes": []}


def list_requests(context: AppContext, query: open311.RequestQuery) -> list[dict[str, Any]]:
    """Requests newest first, as GeoReport v2 filters them; without ids or a start, the
    90 days before the end (or now)."""
    if not query.ids and query.start is None:
        query = replace(
            query, start=(query.end or context.clock.now()) - timedelta(days=DEFAULT_DAYS)
        )
    with context.db() as session:
        services = _services_by_code(session)
        return [
            _request_item(context, request, services)
            for request in open311.find_requests(session, query)
        ]


def read_request(context: AppContext, public_id: str) -> dict[str, Any]:
    """One request as the public sees it; NotFound when there is none."""
    with context.db() as session:
        request = existing(requests.get_request(session, public_id), "service request")
        return _request_item(context, request, _services_by_code(session))


def list_updates(context: AppContext, query: open311.UpdateQuery) -> list[dict[str, Any]]:
    """mySociety's servicerequestupdates: each status change in the period, oldest
    first, with its note only where staff published it (through the same filter as
    descriptions)."""
    policy = context.part(requests.PublicText)
    with context.db() as session:
        found = open311.find_updates(session, query)
        return [
            {
                "update_id": str(change.id),
                "service_request_id": request.public_id,
                "status": change.status,
                "updated_datetime": _local(context, change.changed_at),
                "description": (
                    requests.public_filter(context.keyring, request, change.note, context.region)
                    if change.public and change.note and policy.mode != "none"
                    else ""
                ),
                "media_url": None,
            }
            for change, request in found
        ]


def request_of_token(context: AppContext, token: str) -> str:
    """The number of the request a submission token became; NotFound when none did."""
    with context.db() as session:
        request = open311.request_by_token(session, token)
    if request is None:
        raise NotFound("token")
    return request.public_id


# -- civic apps filing requests --------------------------------------------------------


def civic_app(context: AppContext, api_key: str | None) -> Actor:
    """Who files with ``api_key``: the app's key, named in the audit trail as
    ``open311-key-N``. 403 for a key that is missing, unknown or revoked."""
    with context.db() as session:
        row = keys.check_key(session, api_key)
    if row is None:
        raise Problem(403, "Forbidden", "api_key is missing, unknown or revoked")
    return Actor(None, f"open311-key-{row.id}", None, None)


def submit_request(context: AppContext, app: Actor, new: NewRequest) -> dict[str, Any]:
    """File a civic app's request through the requests' own action (audited with the
    app as actor; anonymous when no contact field was given) and give the app its
    receipt: the request number and a token to follow it by."""
    token = requests.new_public_id().replace("SR-", "T-")
    filed = request_actions.file_request(
        context, app, replace(new, channel="open311", open311_token=token)
    )
    contact_actions.log_web_contact(context, app, filed.id)
    return {
        "service_request_id": filed.id,
        "token": token,
        "service_notice": "Thank you. Keep this number to follow the request.",
        "account_id": None,
    }


# -- keys, for the operator ------------------------------------------------------------


def issue_key(context: AppContext, actor: Actor, *, name: str, via: str | None = None) -> IssuedKey:
    """A new API key for the app called ``name``; the key is returned once."""
    with unit_of_work(
        context, actor, "config.open311_key_issue", object_type="open311_key"
    ) as work:
        if via is not None:
            work.note(via=via)
        key, row = keys.issue_key(work.session, name=name, now=work.now)
        work.object_id = str(row.id)
        return IssuedKey(key=key, id=row.id)


def list_keys(context: AppContext) -> list[KeyOut]:
    """Every key by id, with its app and whether it is revoked (never the key)."""
    with context.db() as session:
        return [KeyOut.of(row) for row in keys.list_keys(session)]


def revoke_key(context: AppContext, actor: Actor, key_id: int, *, via: str | None = None) -> None:
    """Revoke a key at once; NotFound when there is none."""
    with unit_of_work(
        context,
        actor,
        "config.open311_key_revoke",
        object_type="open311_key",
        object_id=str(key_id),
    ) as work:
        if via is not None:
            work.note(via=via)
        if not keys.revoke_key(work.session, key_id=key_id, now=work.now):
            raise NotFound("Open311 key")
