"""Open311 GeoReport v2 under /open311/v2, in JSON and XML.

Parameters are read by hand rather than by FastAPI so that every error, whatever its
cause, is answered in the specification's own format. Public responses never carry a
submitter's name, number, email or address; descriptions are scrubbed of numbers,
emails, SSN-like numbers and the contact's name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.open311 import api_keys as keys
from services.open311.render import FORMATS, Open311Error, error_response, respond, respond_object
from services.platform import audit
from services.platform.context import AppContext
from services.platform.errors import Problem
from services.platform.ratelimit import rate_limit
from services.requests import catalogue
from services.requests import service as requests
from services.requests.models import ServiceRequest, ServiceType

router = APIRouter(prefix="/open311/v2", tags=["open311"])
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-22T00:00:00Z"
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
DEFAULT_PAGE_SIZE = 100
READS = Depends(rate_limit("open311-read", limit=300, per_seconds=60))
WRITES = Depends(rate_limit("open311-write", limit=30, per_seconds=60))


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, "format must be json or xml")
    return fmt


def _answer(fmt: str, produce: Callable[[], Response]) -> Response:
    try:
        _format(fmt)
        return produce()
    except Open311Error as error:
        return error_response(fmt, error)


def _local(context: AppContext, instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(context.city_tz).isoformat()


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
    return {
        "service_request_id": request.public_id,
        "status": "closed" if request.status == "closed" else "open",
        "status_notes": request.status_notes,
        "service_name": service.name if service else None,
        "service_code": request.service_code,
        "description": requests.public_description(context.keyring, request, context.region),
        "agency_responsible": service.department if service else None,
        "service_notice": None,
        "requested_datetime": _local(context, request.created_at),
        "updated_datetime": _local(context, request.updated_at),
        "expected_datetime": None,
        "address": request.address,
        "address_id": None,
        "zipcode": None,
        "lat": request.lat,
        "long": request.long,
        "media_url": None,
    }


def _services_by_code(session: Session) -> dict[str, ServiceType]:
    return {
        service.code: service for service in catalogue.list_services(session, include_inactive=True)
    }


@router.get("/discovery.{fmt}", dependencies=[READS])
def discovery(fmt: str, request: Request) -> Response:
    """Where this endpoint is and what it speaks."""
    context = _context(request)

    def produce() -> Response:
        body = {
            "changeset": CHANGESET,
            "contact": f"{context.city.name} 311",
            "key_service": "Ask the city's 311 office for an API key to submit requests.",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": f"{context.city.public_url}/open311/v2",
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": list(FORMATS.values()),
                }
            ],
        }
        return respond_object(fmt, "discovery", body)

    return _answer(fmt, produce)


@router.get("/services.{fmt}", dependencies=[READS])
def service_list(fmt: str, request: Request) -> Response:
    """The services a request can be filed for."""
    context = _context(request)

    def produce() -> Response:
        with context.db() as session:
            items = [_service_item(service) for service in catalogue.list_services(session)]
        return respond(fmt, "services", "service", items)

    return _answer(fmt, produce)


@router.get("/services/{code}.{fmt}", dependencies=[READS])
def service_definition(code: str, fmt: str, request: Request) -> Response:
    """A service's extra attributes (none here: every service takes a description)."""
    context = _context(request)

    def produce() -> Response:
        with context.db() as session:
            service = catalogue.get_service(session, code)
        if service is None or not service.active:
            raise Open311Error(404, "service_code not found")
        return respond_object(fmt, "service_definition", {"service_code": code, "attributes": []})

    return _answer(fmt, produce)


def _parse_time(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be an ISO 8601 date and time") from exc
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone offset")
    return parsed


def _positive(name: str, value: str | None, default: int, most: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {most}")
    return int(value)


@router.get("/requests.{fmt}", dependencies=[READS])
def request_list(fmt: str, request: Request) -> Response:
    """Requests, newest first, filtered as GeoReport v2 defines (last 90 days by default)."""
    context = _context(request)
    query = request.query_params

    def produce() -> Response:
        statement = select(ServiceRequest)
        ids = [part for part in (query.get("service_request_id") or "").split(",") if part]
        if ids:
            statement = statement.where(ServiceRequest.public_id.in_(ids[:MAX_RESULTS]))
        else:
            start = _parse_time("start_date", query.get("start_date"))
            end = _parse_time("end_date", query.get("end_date"))
            now = context.clock.now()
            if start is None:
                start = (end or now) - timedelta(days=DEFAULT_DAYS)
            statement = statement.where(ServiceRequest.created_at >= start.astimezone(UTC))
            if end is not None:
                statement = statement.where(ServiceRequest.created_at <= end.astimezone(UTC))
            codes = [part for part in (query.get("service_code") or "").split(",") if part]
            if codes:
                statement = statement.where(ServiceRequest.service_code.in_(codes))
            statuses = [part for part in (query.get("status") or "").split(",") if part]
            if any(status not in ("open", "closed") for status in statuses):
                raise Open311Error(400, "status must be open or closed")
            if statuses == ["open"]:
                statement = statement.where(ServiceRequest.status != "closed")
            elif statuses == ["closed"]:
                statement = statement.where(ServiceRequest.status == "closed")
        page = _positive("page", query.get("page"), 1, 10_000)
        size = _positive("page_size", query.get("page_size"), DEFAULT_PAGE_SIZE, MAX_RESULTS)
        statement = (
            statement.options(selectinload(ServiceRequest.contact))
            .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
        with context.db() as session:
            services = _services_by_code(session)
            items = [_request_item(context, row, services) for row in session.scalars(statement)]
        return respond(fmt, "service_requests", "request", items)

    return _answer(fmt, produce)


@router.get("/requests/{public_id}.{fmt}", dependencies=[READS])
def request_detail(public_id: str, fmt: str, request: Request) -> Response:
    """One request, as a list of one."""
    context = _context(request)

    def produce() -> Response:
        with context.db() as session:
            row = requests.get_request(session, public_id[:32])
            if row is None:
                raise Open311Error(404, "service_request_id not found")
            item = _request_item(context, row, _services_by_code(session))
        return respond(fmt, "service_requests", "request", [item])

    return _answer(fmt, produce)


@router.get("/tokens/{token}.{fmt}", dependencies=[READS])
def token_lookup(token: str, fmt: str, request: Request) -> Response:
    """The request a submission token became."""
    context = _context(request)

    def produce() -> Response:
        with context.db() as session:
            row = session.scalar(
                select(ServiceRequest).where(ServiceRequest.open311_token == token[:40])
            )
        if row is None:
            raise Open311Error(404, "token not found")
        return respond(
            fmt,
            "service_requests",
            "request",
            [{"service_request_id": row.public_id, "token": token}],
        )

    return _answer(fmt, produce)


def _float(form: dict[str, str], name: str) -> float | None:
    value = form.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a number") from exc


@router.post("/requests.{fmt}", dependencies=[WRITES])
async def submit_request(fmt: str, request: Request) -> Response:
    """File a request from a civic app (api_key required). Without any contact field it is
    anonymous: nothing is kept that could identify the submitter."""
    context = _context(request)
    try:
        _format(fmt)
        raw = await request.form()
        form = {key: str(value) for key, value in raw.items() if isinstance(value, str)}
    except Open311Error as error:
        return error_response(fmt, error)
    except Exception:  # noqa: BLE001 - an unreadable body is the client's error
        return error_response(fmt, Open311Error(400, "the request body could not be read"))

    def produce() -> Response:
        with context.db.begin() as session:
            app_key = keys.check_key(session, form.get("api_key"))
            if app_key is None:
                raise Open311Error(403, "api_key is missing, unknown or revoked")
            return _file(context, session, fmt, form, app_key.id)

    return _answer(fmt, produce)


def _file(
    context: AppContext, session: Session, fmt: str, form: dict[str, str], key_id: int
) -> Response:
    if not form.get("service_code"):
        raise Open311Error(400, "service_code is required")
    lat, long = _float(form, "lat"), _float(form, "long")
    address = form.get("address_string") or None
    if (lat is None or long is None) and not address:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    name = " ".join(part for part in (form.get("first_name"), form.get("last_name")) if part)
    contact = requests.ContactDetails(
        name=name or None, phone=form.get("phone") or None, email=form.get("email") or None
    )
    now = context.clock.now()
    try:
        filed = requests.create_request(
            session,
            context.keyring,
            requests.NewRequest(
                service_code=form["service_code"],
                description=form.get("description", "")[:4000],
                address=address,
                lat=lat,
                long=long,
                anonymous=contact.is_empty(),
                contact=None if contact.is_empty() else contact,
                channel="open311",
            ),
            filed_by=None,
            now=now,
            region=context.region,
            duplicates=context.part(requests.DuplicatePolicy),
        )
    except Problem as problem:
        field = (problem.errors or [{}])[0].get("field", "")
        message = (problem.errors or [{}])[0].get("message", problem.detail or "is not valid")
        raise Open311Error(400, f"{field.replace('contact.', '')} {message}".strip()) from None
    filed.open311_token = requests.new_public_id().replace("SR-", "T-")
    audit.record(
        session,
        actor=audit.Actor(None, f"open311-key-{key_id}", None, None),
        action="request.create",
        at=now,
        object_type="service_request",
        object_id=None if filed.anonymous else filed.public_id,
        detail={"channel": "open311", "anonymous": filed.anonymous},
    )
    item = {
        "service_request_id": filed.public_id,
        "token": filed.open311_token,
        "service_notice": "Thank you. Keep this number to follow the request.",
        "account_id": None,
    }
    return respond(fmt, "service_requests", "request", [item], status=201)
