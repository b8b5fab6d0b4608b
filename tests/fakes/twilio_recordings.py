"""Twilio's recording endpoints, with the failures the pipeline must survive.

``fake.state["media"][recording_sid]`` holds ``{"wav": bytes, "mode": …}`` where mode is
``ok``, ``404``, ``500``, ``slow`` (waits past any sane timeout), ``truncated`` (sends
half the body with the full Content-Length), or a list of modes taken one per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.twilio_api import FakeTwilio, own_form, twilio_error


def recordings_router(fake: FakeTwilio) -> APIRouter:
    router = APIRouter(prefix="/2010-04-01/Accounts/{account_sid}")

    def media(recording_sid: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = fake.state.setdefault("media", {}).get(recording_sid)
        return found

    @router.get("/Recordings/{recording_sid}.wav")
    async def download(account_sid: str, recording_sid: str) -> Response:
        entry = media(recording_sid)
        if entry is None:
            return twilio_error(404, 20404, "The requested resource was not found")
        mode = entry.get("mode", "ok")
        if isinstance(mode, list):
            mode = mode.pop(0) if len(mode) > 1 else mode[0]
        wav: bytes = entry["wav"]
        if mode == "404":
            return twilio_error(404, 20404, "The requested resource was not found")
        if mode == "500":
            return twilio_error(500, 20500, "Internal Server Error")
        if mode == "slow":
            await asyncio.sleep(5)
        if mode == "truncated":

            async def half() -> AsyncIterator[bytes]:
                yield wav[: len(wav) // 2]

            return StreamingResponse(
                half(), media_type="audio/x-wav", headers={"Content-Length": str(len(wav))}
            )
        return Response(wav, media_type="audio/x-wav")

    @router.delete("/Recordings/{recording_sid}.json")
    def delete(account_sid: str, recording_sid: str) -> Response:
        deleted = fake.state.setdefault("deleted", [])
        if recording_sid in deleted:
            return twilio_error(404, 20404, "The requested resource was not found")
        deleted.append(recording_sid)
        return Response(status_code=204)

    @router.post("/Calls/{call_sid}/Recordings/{recording_sid}.json")
    async def update(
        account_sid: str, call_sid: str, recording_sid: str, request: Request
    ) -> Response:
        form = own_form(request)
        fake.state.setdefault("recording_updates", []).append((call_sid, recording_sid, form))
        return JSONResponse(
            {
                "sid": "RE" + "0" * 32,
                "call_sid": call_sid,
                "account_sid": account_sid,
                "status": str(form.get("Status")),
                "date_updated": "Wed, 18 Nov 2026 15:00:00 +0000",
                "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}/Recordings.json",
            }
        )

    return router
