"""Structured JSON logs with a request id, access logging, body limits, the answer to
unexpected errors, and metrics.

Log lines carry ids, route templates, statuses and timings: never request bodies,
query strings, numbers, names, emails, addresses or tokens.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.routing import Mount, Route

from services.platform.errors import TITLES, UNEXPECTED, ErrorFormat, error_body

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_STANDARD_RECORD_KEYS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_RECORD_KEYS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: an exception's text can quote the data that caused it.
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The Twilio SDK logs each request's URL, headers and body at INFO: numbers and texts.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    # Uvicorn's own access log prints full paths with query strings; ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class Metrics:
    """The app's Prometheus metrics, on a registry of its own (one per app instance)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "switchboard_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "switchboard_http_request_seconds",
            "HTTP request latency by route template.",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.webhooks = Counter(
            "switchboard_twilio_webhooks_total",
            "Twilio webhooks by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        # Read from the database at each scrape (any web process answers for all).
        self.jobs_owed = Gauge(
            "switchboard_jobs_owed",
            "Jobs queued, running or waiting for a retry.",
            registry=self.registry,
        )
        self.jobs_oldest_age = Gauge(
            "switchboard_jobs_oldest_due_seconds",
            "How long the longest-owed job has been due (0 when none).",
            registry=self.registry,
        )
        self.recordings = Gauge(
            "switchboard_recordings",
            "Recordings by pipeline state.",
            ["state"],
            registry=self.registry,
        )
        self.audit_seal_overdue = Gauge(
            "switchboard_audit_seal_overdue_seconds",
            "Seconds since the first complete month with unsealed audit entries ended.",
            registry=self.registry,
        )
        self.data_dir_free = Gauge(
            "switchboard_data_dir_free_bytes",
            "Free space on the file system of DATA_DIR.",
            registry=self.registry,
        )
        self.scrape_errors = Counter(
            "switchboard_metrics_scrape_errors_total",
            "Scrapes whose database figures could not be read.",
            registry=self.registry,
        )


def _route_template(scope: Scope, templates: dict[int, str]) -> str:
    """The template of the route that served the request, or "unmatched" for none.

    FastAPI's own routes put themselves in the scope; plain Starlette routes (the OpenAPI
    schema) and mounts (static files) leave only their endpoint, found in ``templates``.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    endpoint = scope.get("endpoint")
    return templates.get(id(endpoint), "unmatched") if endpoint is not None else "unmatched"


def _endpoint_templates(app: Any) -> dict[int, str]:
    """Route templates by endpoint for the routes that do not name themselves in the scope;
    everything under a mount is one template, so file names never become labels."""
    templates: dict[int, str] = {}
    for route in getattr(getattr(app, "router", None), "routes", []):
        if isinstance(route, Mount):
            templates[id(route.app)] = route.path + "/{path}"
        elif isinstance(route, Route):
            templates[id(route.endpoint)] = route.path
    return templates


class RequestContextMiddleware:
    """Assigns a request id, limits body sizes, answers unexpected errors, and logs and
    counts every request. It sits inside the security headers, so its own answers (413,
    500) carry them like any other."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        max_webhook_body_bytes: int,
        access_log: Any = None,
        error_formats: Sequence[ErrorFormat] = (),
    ) -> None:
        self.app = app
        self.error_formats = tuple(error_formats)
        self.access_log = access_log
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.max_webhook_body_bytes = max_webhook_body_bytes
        self.log = logging.getLogger("switchboard.access")
        self._templates: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_OK.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        limit = (
            self.max_webhook_body_bytes
            if scope["path"].startswith("/twilio/")
            else self.max_body_bytes
        )
        started = time.perf_counter()
        status_holder = {"status": 500}
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        too_large = f"The body may be at most {limit} bytes."
        try:
            declared = _declared_length(scope)
            if declared is not None and declared > limit:
                await self._send_error(scope, send_with_id, request_id, 413, too_large)
                return
            if _NUL_IN_QUERY in scope.get("query_string", b""):
                raise NulCharacter
            nul = _nul_spellings(scope)
            body = await _checked_text_body(receive, limit, nul) if nul else None
            await self.app(scope, body or _limited(receive, limit), send_with_id)
        except BodyTooLarge:
            await self._send_error(scope, send_with_id, request_id, 413, too_large)
        except NulCharacter:
            if not response_started:
                await self._send_error(scope, send_with_id, request_id, 400, NUL_MESSAGE)
        except Exception as exc:
            # The exception text may hold data; log only its type, with the request id.
            self.log.error("unhandled error", extra={"error_type": type(exc).__name__})
            if not response_started:
                await self._send_error(scope, send_with_id, request_id, 500, UNEXPECTED)
            raise  # the server (or a test client) sees it too; the answer has gone
        finally:
            self._record(scope, status_holder["status"], time.perf_counter() - started)
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        """Count, time and log one answered request (route template, never its query)."""
        if self._templates is None:  # the routes are all in place by the first request
            self._templates = _endpoint_templates(scope.get("app"))
        route = _route_template(scope, self._templates)
        self.metrics.requests.labels(route, scope["method"], str(status)).inc()
        self.metrics.latency.labels(route).observe(elapsed)
        self.log.info(
            "request",
            extra={
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
        if self.access_log is not None:
            client = scope.get("client")
            self.access_log.add(
                method=scope["method"],
                route=route,
                status=status,
                duration_ms=elapsed * 1000,
                client_host=client[0] if client else None,
            )

    async def _send_error(
        self, scope: Scope, send: Send, request_id: str, status: int, detail: str
    ) -> None:
        media_type, body = error_body(
            self.error_formats,
            scope["path"],
            status,
            TITLES[status],
            detail,
            request_id=request_id,
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media_type.encode("latin-1")),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class NulCharacter(Exception):
    """A NUL character in text from outside: no field may hold one (PostgreSQL's text
    types cannot store it at all, so it would fail mid-transaction)."""


NUL_MESSAGE = "Text may not contain NUL characters."
# How a NUL arrives in each kind of body we read as text, and in a query string.
_NUL_SPELLINGS = {
    "application/json": (b"\\u0000",),
    "application/x-www-form-urlencoded": (b"%00",),
}
_NUL_IN_QUERY = b"%00"


def _nul_spellings(scope: Scope) -> tuple[bytes, ...]:
    content_type = b""
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            content_type = value.split(b";")[0].strip().lower()
    return _NUL_SPELLINGS.get(content_type.decode("latin-1"), ())


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return wrapped


async def _checked_text_body(receive: Receive, limit: int, nul: tuple[bytes, ...]) -> Receive:
    """A body read as text (JSON, a form), read whole first (it is at most ``limit``
    bytes): BodyTooLarge past the limit, NulCharacter when it spells a NUL in one of the
    ``nul`` ways; else a ``receive`` that hands the app the same body."""
    chunks, seen = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app will hear so from receive()
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if any(spelling in body.lower() for spelling in nul):
        raise NulCharacter
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
