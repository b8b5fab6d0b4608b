"""Twilio's Messages and Lookup endpoints, with its test-number errors and failures.

Like Twilio's test credentials: To +15005550001 gives 21211 (invalid number),
+15005550004 gives 21610 (unsubscribed), +15005550009 gives 21614 (not a mobile).
``fake.state["sms_next"]`` is a list of behaviours for the next sends: ``429``, ``500``,
or ``accept-then-hang`` (takes the text, then answers too late for the client).
``fake.state["line_types"][number]`` steers Lookup. ``fake.state["inbound"][sid]`` is a
text the city received (``from``, ``to``, ``body``, ``date_created``), for fetching by sid.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.twilio_api import FakeTwilio, own_form, server_failure, twilio_error

TEST_NUMBER_ERRORS = {
    "+15005550001": (400, 21211, "The 'To' number is not a valid phone number."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (400, 21614, "'To' number is not a valid mobile number"),
}


def _resource(account_sid: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": message["sid"],
        "account_sid": account_sid,
        "to": message["to"],
        "from": message.get("from"),
        "messaging_service_sid": message.get("messaging_service_sid"),
        "body": message["body"],
        "status": message["status"],
        "num_segments": "1",
        "direction": "outbound-api",
        "date_created": format_datetime(message["date_sent"]),
        "date_sent": format_datetime(message["date_sent"]),
        "date_updated": format_datetime(message["date_sent"]),
        "error_code": None,
        "error_message": None,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message['sid']}.json",
    }


def messages_router(fake: FakeTwilio) -> APIRouter:
    router = APIRouter()

    @router.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
    async def create(account_sid: str, request: Request) -> Response:
        form = own_form(request)
        to = form.get("To", "")
        if to in TEST_NUMBER_ERRORS:
            status, code, text = TEST_NUMBER_ERRORS[to]
            return twilio_error(status, code, text)
        behaviour = fake.next_behaviour("sms")
        failed = server_failure(behaviour)
        if failed is not None:
            return failed
        message = {
            "sid": "SM" + secrets.token_hex(16),
            "to": to,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", ""),
            "status_callback": form.get("StatusCallback"),
            "status": "queued",
            "date_sent": datetime.now(UTC),
        }
        fake.state.setdefault("messages", []).append(message)
        if behaviour == "accept-then-hang":
            await asyncio.sleep(3)
        return JSONResponse(_resource(account_sid, message), status_code=201)

    @router.get("/2010-04-01/Accounts/{account_sid}/Messages.json")
    def list_messages(account_sid: str, request: Request) -> Response:
        query = request.query_params
        since = query.get("DateSent>")
        found = [
            m
            for m in fake.state.get("messages", [])
            if m["to"] == query.get("To") and (since is None or m["date_sent"] >= _parse(since))
        ]
        return JSONResponse(
            {
                "messages": [_resource(account_sid, m) for m in found],
                "page": 0,
                "page_size": 50,
                "uri": request.url.path,
                "first_page_uri": request.url.path,
                "next_page_uri": None,
                "previous_page_uri": None,
            }
        )

    @router.get("/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}.json")
    def fetch_message(account_sid: str, message_sid: str) -> Response:
        found = fake.state.setdefault("inbound", {}).get(message_sid)
        if found is None:
            return twilio_error(404, 20404, f"The requested resource {message_sid} was not found")
        resource = _resource(
            account_sid,
            {**found, "sid": message_sid, "status": "received", "date_sent": found["date_created"]},
        )
        return JSONResponse({**resource, "direction": "inbound"})

    @router.get("/lookups/v2/PhoneNumbers/{number}")
    def lookup(number: str) -> Response:
        kind = fake.state.setdefault("line_types", {}).get(number, "mobile")
        return JSONResponse(
            {
                "phone_number": number,
                "valid": True,
                "country_code": "US",
                "calling_country_code": "1",
                "national_format": number,
                "line_type_intelligence": {"type": kind, "carrier_name": "Fake Carrier"},
                "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
            }
        )

    return router


def _parse(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return parsedate_to_datetime(value)
