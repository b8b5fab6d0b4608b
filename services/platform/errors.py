"""Errors as RFC 9457 problem details: a clear message, the field at fault, never a trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
UNEXPECTED = "Something went wrong; the request id names it."
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    429: "Too many requests",
    500: "Internal error",
}
log = logging.getLogger("switchboard.errors")
T = TypeVar("T")


class Problem(Exception):
    """An error a client can act on. ``detail`` must not quote personal data."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers


class NotFound(Problem):
    def __init__(self, what: str) -> None:
        super().__init__(404, "Not found", f"No {what} with that identifier.")


def existing(found: T | None, what: str) -> T:
    """What a lookup ``found``; NotFound naming ``what`` when it found nothing."""
    if found is None:
        raise NotFound(what)
    return found


class InvalidField(Problem):
    """A single bad input, named by its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            422,
            "Invalid input",
            f"{field}: {message}",
            errors=[{"field": field, "message": message}],
        )


@dataclass(frozen=True)
class ErrorFormat:
    """How errors are written under ``prefix`` for clients that expect their own format
    rather than problem details (Open311's ``[{"code", "description"}]``): ``render``
    takes the path, the status and the description and gives the media type and body."""

    prefix: str
    render: Callable[[str, int, str], tuple[str, bytes]]


def error_body(
    formats: Sequence[ErrorFormat],
    path: str,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    request_id: str | None = None,
) -> tuple[str, bytes]:
    """The media type and body of an error answered at ``path``: in the format of the
    first of ``formats`` whose prefix it falls under, else as problem details."""
    for error_format in formats:
        if path.startswith(error_format.prefix):
            return error_format.render(path, status, detail or title)
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    if request_id:
        body["request_id"] = request_id
    return PROBLEM_JSON, json.dumps(body).encode()


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    formats: Sequence[ErrorFormat] = getattr(request.app.state, "error_formats", ())
    media_type, body = error_body(
        formats,
        request.url.path,
        status,
        title,
        detail,
        errors=errors,
        request_id=getattr(request.state, "request_id", None),
    )
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    # Pydantic's "input" may echo what was typed (a phone number, a name): leave it out.
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def install_problem_handlers(app: FastAPI, formats: Sequence[ErrorFormat] = ()) -> None:
    """Answer every error as problem details, or in ``formats`` under their prefixes.
    Unexpected errors are answered by the request middleware (``observability``), so
    that the answer passes through the security headers like any other."""
    app.state.error_formats = tuple(formats)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(
            request, exc.status, exc.title, exc.detail, errors=exc.errors, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": _field_name(error.get("loc", ())), "message": _validation_message(error)}
            for error in exc.errors()
        ]
        detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
        return problem_response(request, 422, "Invalid input", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        return problem_response(
            request, exc.status_code, title, detail, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(OperationalError)
    async def _database_away(request: Request, exc: OperationalError) -> Response:
        # The database is unreachable (restarting, failing over): say so at once, so that
        # Twilio retries the webhook and a load balancer reads /readyz.
        log.warning("database unavailable", extra={"error_type": type(exc.orig).__name__})
        return problem_response(
            request,
            503,
            "Service unavailable",
            "The database cannot be reached; try again shortly.",
            headers={"Retry-After": "5"},
        )
