"""The console's one event-stream loop (services.console.events), on its own: what the
screen pop and the wallboard both rely on."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from services.console import events


def _app(poll_frames: list[list[str]] | None, first: list[str]) -> FastAPI:
    app = FastAPI()

    @app.get("/stream")
    async def stream(request: Request) -> StreamingResponse:
        async def poll() -> list[str]:
            assert poll_frames is not None
            return poll_frames.pop(0) if poll_frames else []

        return events.event_stream(
            request,
            lifetime=0.6,
            every=0.05,
            poll=None if poll_frames is None else poll,
            first=first,
        )

    return app


def test_a_stream_sends_its_first_frames_then_what_changed_and_a_heartbeat_when_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 0.2)
    changed = events.sse("board", {"waiting": 2})
    with TestClient(_app([[changed]], [events.sse("status", {"on": True})])) as client:
        answer = client.get("/stream")
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["x-accel-buffering"] == "no"
    body = answer.text
    assert body.startswith(events.RECONNECT + 'event: status\ndata: {"on":true}\n\n')
    assert body.count('event: board\ndata: {"waiting":2}\n\n') == 1
    # Quiet for 0.6 s after the one change: heartbeats, each after 0.2 s of silence.
    assert 1 <= body.count(events.HEARTBEAT) <= 3
    assert body.index(changed) < body.index(events.HEARTBEAT)


def test_a_stream_with_nothing_to_poll_ends_after_its_first_frames() -> None:
    with TestClient(_app(None, [events.sse("status", {"extension": None})])) as client:
        body = client.get("/stream").text
    assert body == events.RECONNECT + 'event: status\ndata: {"extension":null}\n\n'
