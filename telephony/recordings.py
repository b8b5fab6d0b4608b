"""Recording status callbacks, and Twilio's side of recordings: media, deletion, pausing."""

from __future__ import annotations

import logging

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException

from services.platform.errors import Problem
from services.platform.params import CALL_SID, RECORDING_SID
from services.recordings.service import RecordingEvent, record_recording_event
from services.recordings.source import MediaUnavailable
from telephony.rest import TwilioAccount
from telephony.webhooks import TwilioRoute, app_context, twilio_form

MAX_MEDIA_BYTES = 512 * 1024 * 1024
STATUSES = frozenset({"in-progress", "paused", "stopped", "completed", "absent", "failed"})
log = logging.getLogger("switchboard.twilio")

router = APIRouter(
    prefix="/twilio", tags=["twilio"], include_in_schema=False, route_class=TwilioRoute
)


@router.post("/recordings", status_code=204)
async def recording_status(request: Request) -> Response:
    """Twilio reports a recording's progress; a completed one is fetched in the background."""
    form, context = twilio_form(request), app_context(request)
    recording_sid, call_sid = form.get("RecordingSid") or "", form.get("CallSid") or ""
    status = (form.get("RecordingStatus") or "").lower()
    if not RECORDING_SID.match(recording_sid) or not CALL_SID.match(call_sid):
        raise Problem(400, "Malformed webhook", "RecordingSid or CallSid is missing or malformed.")
    if status not in STATUSES:
        raise Problem(400, "Malformed webhook", "RecordingStatus is missing or unknown.")
    now = context.clock.now()
    duration = form.integer("RecordingDuration")
    event = RecordingEvent(
        recording_sid=recording_sid,
        call_sid=call_sid,
        status=status,
        kind="voicemail" if request.query_params.get("kind") == "voicemail" else "call",
        source=(form.get("RecordingSource") or None),
        channels=form.integer("RecordingChannels") or 1,
        duration_seconds=duration,
        started_at=form.timestamp("RecordingStartTime") or now,
        media_url=form.get("RecordingUrl") or None,
        error_code=form.get("ErrorCode") or None,
        received_at=now,
    )

    def work(session: Session) -> bool:
        newly_completed = record_recording_event(session, event)
        if newly_completed:
            # Owed with the event (the outbox): a queue that loses the push loses nothing.
            context.jobs.record(session, "recordings.process", {"recording_sid": recording_sid})
        return newly_completed

    newly_completed = await context.ingest.run(work)
    context.metrics.webhooks.labels("recordings", status).inc()
    if newly_completed:
        try:
            context.jobs.enqueue("recordings.process", {"recording_sid": recording_sid})
        except Exception:  # noqa: BLE001 - owed in the database; the job sweep pushes it
            log.warning("could not queue a recording; the job sweep will")
    return Response(status_code=204)


class TwilioRecordingSource:
    """Recording media and controls through Twilio's REST API (``TWILIO_API_BASE_URL``)."""

    def __init__(self, account: TwilioAccount) -> None:
        self._auth = account.auth
        self._timeout = account.timeout
        self._router = account.router
        self._client = account.client

    def _media_url(self, media_url: str) -> str:
        if not media_url.startswith("https://api.twilio.com/") and not media_url.startswith(
            self._router.base_url
        ):
            raise MediaUnavailable("the media is not at Twilio")
        url = self._router.route(media_url)
        return url if url.endswith(".wav") else url + ".wav"

    def download(self, media_url: str) -> bytes:
        try:
            with httpx.stream(
                "GET",
                self._media_url(media_url),
                auth=self._auth,
                timeout=self._timeout,
                follow_redirects=True,
            ) as response:
                if response.status_code != 200:
                    raise MediaUnavailable(f"Twilio answered {response.status_code} for the media")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_MEDIA_BYTES:
                        raise MediaUnavailable("the media is larger than any call recording")
                return bytes(body)
        except httpx.HTTPError as exc:
            raise MediaUnavailable(f"the media download failed ({type(exc).__name__})") from exc

    def delete(self, recording_sid: str) -> None:
        try:
            self._client.recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return  # already gone
            raise MediaUnavailable(f"Twilio refused the deletion ({exc.status})") from exc
        except Exception as exc:
            raise MediaUnavailable(f"the deletion failed ({type(exc).__name__})") from exc

    def set_paused(self, call_sid: str, paused: bool) -> None:
        try:
            self._client.calls(call_sid).recordings("Twilio.CURRENT").update(
                status="paused" if paused else "in-progress", pause_behavior="skip"
            )
        except TwilioRestException as exc:
            raise MediaUnavailable(f"Twilio refused the change ({exc.status})") from exc
        except Exception as exc:
            raise MediaUnavailable(f"the change failed ({type(exc).__name__})") from exc
