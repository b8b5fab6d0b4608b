"""Twilio's Calls endpoint: placing an outbound call, as the SDK's ``calls.create`` does.

``fake.state["calls_next"]`` is a list of behaviours for the next calls: ``429`` or
``500`` (Twilio overloaded or failing) or ``21215`` (a number the account may not call).
Placed calls are kept in ``fake.state["calls"]`` with the form they were placed with.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from tests.fakes.twilio_api import FakeTwilio, server_failure, twilio_error


def calls_router(fake: FakeTwilio) -> APIRouter:
    router = APIRouter()

    @router.post("/2010-04-01/Accounts/{account_sid}/Calls.json")
    def create(account_sid: str) -> Response:
        form = fake.requests[-1].form  # the auth middleware has read the body already
        if not form.get("To") or not form.get("From"):
            return twilio_error(400, 21201, "No 'To' number is specified")
        if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
            return twilio_error(400, 21205, "Url parameter is required")
        behaviour = fake.next_behaviour("calls")
        failed = server_failure(behaviour)
        if failed is not None:
            return failed
        if behaviour == "21215":
            return twilio_error(400, 21215, "Geo Permission configuration is not permitting call")
        now = format_datetime(datetime.now(UTC))
        call: dict[str, Any] = {
            "sid": "CA" + secrets.token_hex(16),
            "account_sid": account_sid,
            "to": form["To"],
            "from": form["From"],
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Calls.json",
        }
        fake.state.setdefault("calls", []).append({**call, "form": dict(form)})
        return JSONResponse(call, status_code=201)

    return router
