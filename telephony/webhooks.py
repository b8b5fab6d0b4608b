"""Signed Twilio webhooks: every route of a ``TwilioRoute`` router is verified first.

A request whose signature does not check out gets 403 before any handler runs, so
nothing is stored for it. The check lives in the route class rather than in a
per-route dependency so that no route can forget it, and so that the webhook path
stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.routing import APIRoute

from services.platform.context import AppContext
from services.platform.errors import Problem
from services.platform.params import within_range
from telephony.signature import WebhookVerifier

MAX_FIELDS = 200
log = logging.getLogger("switchboard.twilio")


@dataclass(frozen=True)
class TwilioForm:
    """The parameters of a verified Twilio webhook."""

    pairs: Sequence[tuple[str, str]]

    def get(self, name: str) -> str | None:
        for key, value in self.pairs:
            if key == name:
                return value
        return None

    def integer(self, name: str) -> int | None:
        value = (self.get(name) or "").strip()
        return int(value) if value.isdigit() and len(value) < 10 else None

    def timestamp(self, name: str = "Timestamp") -> datetime | None:
        """An RFC 2822 time as Twilio sends it ("Mon, 16 Aug 2010 03:45:01 +0000")."""
        value = self.get(name)
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
            within_range(parsed)
        except (TypeError, ValueError):
            return None  # unreadable, or outside any year a call can fall in: not Twilio's
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _app_path(request: Request) -> str:
    """The path below the app's mount point; PUBLIC_URL supplies any proxy prefix."""
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def verified_form(request: Request) -> TwilioForm:
    """Read, parse and verify a Twilio webhook. 403 on a missing or wrong signature."""
    context = app_context(request)
    kind = request.url.path.rsplit("/", 1)[-1]
    body = await request.body()
    pairs: list[tuple[str, str]] = []
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS
            )
        except (UnicodeDecodeError, ValueError) as exc:
            context.metrics.webhooks.labels(kind, "malformed").inc()
            raise Problem(400, "Malformed webhook", "The form body could not be read.") from exc
    verifier: WebhookVerifier = request.app.state.webhook_verifier
    url = verifier.url_for(
        _app_path(request), request.scope.get("query_string", b"").decode("latin-1")
    )
    if not verifier.is_valid(
        url,
        pairs,
        request.headers.get("x-twilio-signature"),
        request.headers.get("x-twilio-webhooks-signature-settings"),
    ):
        context.metrics.webhooks.labels(kind, "bad_signature").inc()
        log.warning("rejected a webhook with a missing or invalid signature", extra={"kind": kind})
        raise Problem(403, "Forbidden", "The request does not carry a valid Twilio signature.")
    return TwilioForm(tuple(pairs))


class TwilioRoute(APIRoute):
    """A route whose handler runs only for a correctly signed Twilio request.

    The handler finds the verified form with ``twilio_form(request)``.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def verified(request: Request) -> Response:
            request.state.twilio_form = await verified_form(request)
            return await handler(request)

        return verified


def twilio_form(request: Request) -> TwilioForm:
    form: TwilioForm = request.state.twilio_form
    return form


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
