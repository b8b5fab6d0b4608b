"""Open311 GeoReport v2 under /open311/v2, in JSON and XML: routes that parse, call the
action, and answer in the specification's format.

Parameters are read by hand rather than by FastAPI so that every error, whatever its
cause, is answered in the specification's own format. Public responses never carry a
submitter's name, number, email or address; descriptions are scrubbed of numbers,
emails, SSN-like numbers and the contact's name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from services.open311 import actions
from services.open311.render import FORMATS, Open311Error, error_response, respond, respond_object
from services.open311.service import MAX_RESULTS, RequestQuery
from services.platform.context import ContextDep
from services.platform.errors import Problem
from services.platform.params import parse_instant
from services.platform.ratelimit import rate_limit
from services.requests.service import ContactDetails, NewRequest

router = APIRouter(prefix="/open311/v2", tags=["open311"])
DEFAULT_PAGE_SIZE = 100
READS = Depends(rate_limit("open311-read", limit=300, per_seconds=60))
WRITES = Depends(rate_limit("open311-write", limit=30, per_seconds=60))


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, "format must be json or xml")
    return fmt


def _error(problem: Problem, missing: str) -> Open311Error:
    """A refusal from an action, in GeoReport's words: the field at fault and why."""
    if problem.status == 404:
        return Open311Error(404, missing)
    if problem.errors:
        field = str(problem.errors[0].get("field", "")).replace("contact.", "")
        message = problem.errors[0].get("message", problem.detail or "is not valid")
        return Open311Error(400, f"{field} {message}".strip())
    status = problem.status if problem.status == 403 else 400
    return Open311Error(status, problem.detail or problem.title)


def _answer(fmt: str, produce: Callable[[], Response], *, missing: str = "not found") -> Response:
    try:
        _format(fmt)
        return produce()
    except Open311Error as error:
        return error_response(fmt, error)
    except Problem as problem:
        return error_response(fmt, _error(problem, missing))


@router.get("/discovery.{fmt}", dependencies=[READS])
def discovery(fmt: str, context: ContextDep) -> Response:
    """Where this endpoint is and what it speaks."""
    return _answer(fmt, lambda: respond_object(fmt, "discovery", actions.discovery(context)))


@router.get("/services.{fmt}", dependencies=[READS])
def service_list(fmt: str, context: ContextDep) -> Response:
    """The services a request can be filed for."""
    return _answer(fmt, lambda: respond(fmt, "services", "service", actions.list_services(context)))


@router.get("/services/{code}.{fmt}", dependencies=[READS])
def service_definition(code: str, fmt: str, context: ContextDep) -> Response:
    """A service's extra attributes (none here: every service takes a description)."""
    return _answer(
        fmt,
        lambda: respond_object(
            fmt, "service_definition", actions.service_definition(context, code)
        ),
        missing="service_code not found",
    )


def _parse_time(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name} {exc}") from exc


def _positive(name: str, value: str | None, default: int, most: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {most}")
    return int(value)


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(part for part in (value or "").split(",") if part)


def _request_query(request: Request) -> RequestQuery:
    """GeoReport's filters from the query string; by ids, the rest is not read."""
    query = request.query_params
    page = _positive("page", query.get("page"), 1, 10_000)
    size = _positive("page_size", query.get("page_size"), DEFAULT_PAGE_SIZE, MAX_RESULTS)
    ids = _listed(query.get("service_request_id"))
    if ids:
        return RequestQuery(ids=ids, page=page, size=size)
    statuses = _listed(query.get("status"))
    if any(status not in ("open", "closed") for status in statuses):
        raise Open311Error(400, "status must be open or closed")
    return RequestQuery(
        start=_parse_time("start_date", query.get("start_date")),
        end=_parse_time("end_date", query.get("end_date")),
        service_codes=_listed(query.get("service_code")),
        statuses=statuses,
        page=page,
        size=size,
    )


@router.get("/requests.{fmt}", dependencies=[READS])
def request_list(fmt: str, request: Request, context: ContextDep) -> Response:
    """Requests, newest first, filtered as GeoReport v2 defines (last 90 days by default)."""
    return _answer(
        fmt,
        lambda: respond(
            fmt,
            "service_requests",
            "request",
            actions.list_requests(context, _request_query(request)),
        ),
    )


@router.get("/requests/{public_id}.{fmt}", dependencies=[READS])
def request_detail(public_id: str, fmt: str, context: ContextDep) -> Response:
    """One request, as a list of one."""
    return _answer(
        fmt,
        lambda: respond(
            fmt, "service_requests", "request", [actions.read_request(context, public_id[:32])]
        ),
        missing="service_request_id not found",
    )


@router.get("/tokens/{token}.{fmt}", dependencies=[READS])
def token_lookup(token: str, fmt: str, context: ContextDep) -> Response:
    """The request a submission token became."""

    def produce() -> Response:
        public_id = actions.request_of_token(context, token[:40])
        return respond(
            fmt, "service_requests", "request", [{"service_request_id": public_id, "token": token}]
        )

    return _answer(fmt, produce, missing="token not found")


def _float(form: dict[str, str], name: str) -> float | None:
    value = form.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a number") from exc


def _new_request(form: dict[str, str]) -> NewRequest:
    """The request a civic app's form describes; without any contact field, anonymous."""
    if not form.get("service_code"):
        raise Open311Error(400, "service_code is required")
    lat, long = _float(form, "lat"), _float(form, "long")
    address = form.get("address_string") or None
    if (lat is None or long is None) and not address:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    name = " ".join(part for part in (form.get("first_name"), form.get("last_name")) if part)
    contact = ContactDetails(
        name=name or None, phone=form.get("phone") or None, email=form.get("email") or None
    )
    return NewRequest(
        service_code=form["service_code"],
        description=form.get("description", "")[:4000],
        address=address,
        lat=lat,
        long=long,
        anonymous=contact.is_empty(),
        contact=None if contact.is_empty() else contact,
        channel="open311",
    )


@router.post("/requests.{fmt}", dependencies=[WRITES])
async def submit_request(fmt: str, request: Request, context: ContextDep) -> Response:
    """File a request from a civic app (api_key required). Without any contact field it is
    anonymous: nothing is kept that could identify the submitter."""
    try:
        _format(fmt)
        raw = await request.form()
        form = {key: str(value) for key, value in raw.items() if isinstance(value, str)}
    except Open311Error as error:
        return error_response(fmt, error)
    except Exception:  # noqa: BLE001 - an unreadable body is the client's error
        return error_response(fmt, Open311Error(400, "the request body could not be read"))

    def produce() -> Response:
        app = actions.civic_app(context, form.get("api_key"))
        receipt = actions.submit_request(context, app, _new_request(form))
        return respond(fmt, "service_requests", "request", [receipt], status=201)

    # The filing waits on the database: off the event loop, as a def route would be.
    return await run_in_threadpool(_answer, fmt, produce)
