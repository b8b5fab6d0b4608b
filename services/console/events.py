"""Server-sent event streams for the console pages: one loop for every stream (the screen
pop's and the wallboard's), so each asks the same things of the browser and the proxy.

A stream tells the browser to reconnect two seconds after it ends, polls what it shows
at a fixed pace (any web process may hold a stream, so the database is the source),
sends a comment line as a heartbeat when nothing was sent for a while (proxies close
idle connections), stops as soon as the browser has gone, and ends after the console's
stream lifetime so that a long-open page reconnects through the current process."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse

HEARTBEAT_SECONDS = 15.0
RECONNECT = "retry: 2000\n\n"
HEARTBEAT = ": still here\n\n"


def sse(event: str, data: Any) -> str:
    """One named event with its data as compact JSON."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def event_stream(
    request: Request,
    *,
    lifetime: float,
    every: float,
    poll: Callable[[], Awaitable[Iterable[str]]] | None,
    first: Iterable[str] = (),
) -> StreamingResponse:
    """Sends ``first``, then what each ``poll`` returns (already framed events; nothing
    when nothing changed) every ``every`` seconds, for ``lifetime`` seconds at most.
    Without ``poll`` the stream ends after ``first``."""

    async def stream() -> AsyncIterator[str]:
        yield RECONNECT
        for frame in first:
            yield frame
        if poll is None:
            return
        started = last_sent = time.monotonic()
        while time.monotonic() - started < lifetime:
            if await request.is_disconnected():
                return
            sent = False
            for frame in await poll():
                yield frame
                sent = True
            if sent:
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
                yield HEARTBEAT
                last_sent = time.monotonic()
            await anyio.sleep(every)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )
