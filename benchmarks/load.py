"""A small keep-alive HTTP/1.1 load generator and server launcher for the benchmarks.

The load generator sends prepared raw requests over N persistent connections with
asyncio streams, so the client costs far less CPU than the servers it measures.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from telephony.signature import sign

# A call leg's progress, as Twilio reports it to the status callback: one request each.
CALL_STATUSES = ("initiated", "ringing", "in-progress", "completed")


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def summary(self) -> str:
        return (
            f"{self.throughput:8.0f} req/s  p50 {self.percentile(0.5) * 1000:6.2f} ms  "
            f"p99 {self.percentile(0.99) * 1000:6.2f} ms  statuses {self.statuses}"
        )


def form_request(host: str, path: str, params: dict[str, str], headers: dict[str, str]) -> bytes:
    body = urlencode(params).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body


def progress_callbacks(
    host: str, public_url: str, auth_token: str, leg: Mapping[str, str], start: datetime
) -> list[bytes]:
    """A call leg's signed progress callbacks to ``public_url``'s /twilio/voice/status,
    one per status a second apart from ``start``, each from a random number. ``leg``:
    the fields that name the leg (AccountSid, CallSid, Direction, To, ...)."""
    url = f"{public_url}/twilio/voice/status"
    requests = []
    for sequence, status in enumerate(CALL_STATUSES):
        params = {
            "ApiVersion": "2010-04-01",
            **leg,
            "CallStatus": status,
            "From": f"+1202555{secrets.randbelow(10_000):04d}",
            "SequenceNumber": str(sequence),
            "CallbackSource": "call-progress-events",
            "Timestamp": format_datetime(start + timedelta(seconds=sequence)),
        }
        if status == "completed":
            params["CallDuration"] = "60"
        headers = {"X-Twilio-Signature": sign(auth_token, url, params)}
        requests.append(form_request(host, "/twilio/voice/status", params, headers))
    return requests


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _drive(port: int, requests: Sequence[bytes], connections: int) -> LoadResult:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                try:
                    request = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return LoadResult(len(requests), time.perf_counter() - started, latencies, statuses)


def drive(port: int, requests: Sequence[bytes], connections: int = 16) -> LoadResult:
    """Send every request once over ``connections`` keep-alive connections."""
    return asyncio.run(_drive(port, requests, connections))


@contextmanager
def serve(argv: Sequence[str], port: int, env: dict[str, str], log: Path) -> Iterator[None]:
    """Run a server process and wait until it answers on ``port``."""
    with log.open("w") as sink:
        process = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text()}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start:\n{log.read_text()}")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def stored_events(url: str) -> int:
    """How many call events the database at ``url`` holds."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM call_events")).scalar_one()
    engine.dispose()
    return int(count)


def python() -> str:
    return sys.executable


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
