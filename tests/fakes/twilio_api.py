"""A local stand-in for Twilio's REST API, served over real HTTP for the real SDK.

It checks HTTP Basic auth with the account SID and auth token and answers errors the
way Twilio does (``{"code", "message", "more_info", "status"}``). Each product's
endpoints live in a router of their own, added with ``FakeTwilio.app.include_router``;
tests steer them through ``FakeTwilio.state`` and read ``FakeTwilio.requests``.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from tests.ports import free_port


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]


def own_form(request: Request) -> dict[str, str]:
    """The form of this very request, as the auth middleware read and recorded it."""
    recorded: RecordedRequest = request.state.recorded
    return recorded.form


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


# What Twilio answers when it is overloaded or failing: a test scripts either by status.
SERVER_FAILURES = {
    "429": (429, 20429, "Too Many Requests"),
    "500": (500, 20500, "Internal Server Error"),
}


def server_failure(behaviour: str) -> JSONResponse | None:
    """Twilio's answer for a scripted ``429`` or ``500``; None for any other behaviour."""
    failure = SERVER_FAILURES.get(behaviour)
    return None if failure is None else twilio_error(*failure)


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    app: FastAPI = field(default_factory=FastAPI)
    requests: list[RecordedRequest] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    _server: uvicorn.Server | None = None

    def __post_init__(self) -> None:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )

        @self.app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Any:
            if request.headers.get("authorization") != expected:
                return twilio_error(401, 20003, "Authenticate")
            form = dict(await request.form()) if request.method == "POST" else {}
            recorded = RecordedRequest(
                request.method, request.url.path, {k: str(v) for k, v in form.items()}
            )
            self.requests.append(recorded)
            # The handler reads its own request from here: under concurrent sends the last
            # one in ``self.requests`` may already be another request's.
            request.state.recorded = recorded
            return await call_next(request)

        self.app.include_router(accounts_router(self))
        from tests.fakes.twilio_calls import calls_router
        from tests.fakes.twilio_messages import messages_router
        from tests.fakes.twilio_recordings import recordings_router

        self.app.include_router(recordings_router(self))
        self.app.include_router(messages_router(self))
        self.app.include_router(calls_router(self))

    def next_behaviour(self, endpoint: str) -> str:
        """What a test scripted for the next request to ``endpoint``: the first of
        ``state[f"{endpoint}_next"]``, taken off the list; "ok" when it is empty."""
        upcoming: list[str] = self.state.setdefault(f"{endpoint}_next", [])
        return upcoming.pop(0) if upcoming else "ok"

    def holds_recording(self, recording_sid: str, wav: bytes, mode: Any = "ok") -> None:
        """Twilio keeps ``wav`` as that recording's media and serves it as ``mode`` says
        (tests/fakes/twilio_recordings.py)."""
        self.state.setdefault("media", {})[recording_sid] = {"wav": wav, "mode": mode}

    def reset(self) -> None:
        self.requests.clear()
        self.state.clear()

    def start(self) -> None:
        port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Twilio server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


def accounts_router(fake: FakeTwilio) -> APIRouter:
    router = APIRouter(prefix="/2010-04-01/Accounts")

    @router.get("/{account_sid}.json")
    def fetch_account(account_sid: str) -> Any:
        if account_sid != fake.account_sid:
            return twilio_error(404, 20404, "The requested resource was not found")
        return {
            "sid": account_sid,
            "friendly_name": "City 311",
            "status": "active",
            "type": "Full",
            "date_created": "Mon, 02 Nov 2026 12:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{account_sid}.json",
        }

    return router
