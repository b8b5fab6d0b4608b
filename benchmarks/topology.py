"""The production shape measured: nginx (deploy/nginx, TLS) in front of two web processes
on PostgreSQL, with a private Redis and two job workers.

1. A replay of NYC 311's busiest hour (about 28,000 calls) at ``--speed`` times real
   time for ``--minutes``: signed webhooks at the pace that implies, through nginx.
   p50/p99 webhook latency, errors, lost events (acknowledged but not stored: must be
   0), CPU seconds per process.
2. Signed status-callback ingest through the topology against the same bare FastAPI
   endpoint behind the same nginx (closed loop, same client): the throughput ratio
   (target at least 0.5).
3. The recording pipeline's throughput with two workers against one.

    python -m benchmarks.topology                      # the issue's figures: 5x for 5 minutes
    python -m benchmarks.topology --quick              # a smaller run of the same shape
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from benchmarks.load import (
    CALL_STATUSES,
    LoadResult,
    progress_callbacks,
    python,
    stored_events,
)
from benchmarks.scratch import Scratch, run
from services.app.trial import answers
from telephony.signature import sign
from tests.deploy_support import PrivateRedis, render_nginx
from tests.ports import free_port

AUTH_TOKEN = "bench-auth-token"
ACCOUNT = "AC" + "1" * 32
BUSIEST_HOUR_CALLS = 28_000


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_callbacks(host: str, public_url: str, calls: int) -> list[bytes]:
    """Four signed progress callbacks per call (a call's status webhooks)."""
    start = datetime.now(UTC)
    requests = []
    for _ in range(calls):
        requests += progress_callbacks(
            host,
            public_url,
            AUTH_TOKEN,
            {
                "AccountSid": ACCOUNT,
                "CallSid": "CA" + secrets.token_hex(16),
                "Direction": "inbound",
                "To": "+13025550311",
            },
            start,
        )
    return requests


async def _read_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and int(value):
            await reader.readexactly(int(value))
    return status


async def _drive(
    port: int, tls: ssl.SSLContext, requests: list[bytes], connections: int, rate: float | None
) -> LoadResult:
    """Send each request once over keep-alive TLS connections; with ``rate``, at that
    many requests a second (open loop), else as fast as answers come (closed loop)."""
    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for index, request in enumerate(requests):
        queue.put_nowait((index, request))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    began = time.perf_counter()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls, server_hostname="311.example.gov"
        )
        try:
            while True:
                try:
                    index, request = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if rate:
                    delay = began + index / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                started = time.perf_counter()
                try:
                    writer.write(request)
                    status = await _read_status(reader)
                except (OSError, asyncio.IncompleteReadError):
                    status = 599
                    writer.close()
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", port, ssl=tls, server_hostname="311.example.gov"
                    )
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return LoadResult(len(requests), time.perf_counter() - began, latencies, statuses)


def drive(
    port: int, tls: ssl.SSLContext, requests: list[bytes], connections: int, rate: float | None
) -> LoadResult:
    return asyncio.run(_drive(port, tls, requests, connections, rate))


@dataclass
class Shape:
    work: Path
    env: dict[str, str]
    url: str
    web_ports: list[int]
    https_port: int
    tls: ssl.SSLContext


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        running = subprocess.Popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield running
    finally:
        running.terminate()
        try:
            running.wait(timeout=30)
        except subprocess.TimeoutExpired:
            running.kill()


def wait_ready(port: int, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if answers(f"http://127.0.0.1:{port}{path}"):
            return
        time.sleep(0.3)
    raise RuntimeError(f"nothing answered on port {port}")


@contextmanager
def webs(shape: Shape, argv: list[list[str]], stack_name: str) -> Iterator[list[int]]:
    with ExitStack() as stack:
        pids = []
        for index, (port, command) in enumerate(zip(shape.web_ports, argv, strict=True)):
            running = stack.enter_context(
                process([*command, "--port", str(port)], shape.env,
                        shape.work / f"{stack_name}{index}.log")
            )  # fmt: skip
            pids.append(running.pid)
        for port in shape.web_ports:
            wait_ready(port)
        yield pids


def replay(shape: Shape, minutes: float, speed: float, connections: int) -> None:
    calls_per_second = BUSIEST_HOUR_CALLS / 3600 * speed
    calls = max(1, int(calls_per_second * minutes * 60))
    rate = calls_per_second * len(CALL_STATUSES)
    serve = [python(), "-m", "services.app.cli", "serve"]
    before = stored_events(shape.env["SWITCHBOARD_DATABASE_URL"])
    with webs(shape, [serve, serve], "web") as pids:
        requests = status_callbacks(f"127.0.0.1:{shape.https_port}", shape.url, calls)
        cpu_before = [cpu_seconds(pid) for pid in pids]
        result = drive(shape.https_port, shape.tls, requests, connections, rate)
        cpu = [cpu_seconds(pid) - start for pid, start in zip(pids, cpu_before, strict=True)]
    acknowledged = sum(count for status, count in result.statuses.items() if status < 300)
    stored = stored_events(shape.env["SWITCHBOARD_DATABASE_URL"]) - before
    errors = len(requests) - acknowledged
    print(
        f"replay: {calls} calls ({speed:g}x the busiest hour, {minutes:g} min), "
        f"{len(requests)} webhooks at {rate:.0f}/s offered, {result.throughput:.0f}/s done\n"
        f"    p50 {result.percentile(0.5) * 1000:.1f} ms"
        f"  p99 {result.percentile(0.99) * 1000:.1f} ms"
        f"  errors {errors}  statuses {result.statuses}\n"
        f"    lost events (acknowledged, not stored): {max(0, acknowledged - stored)}\n"
        f"    CPU seconds per web process: {', '.join(f'{c:.1f}' for c in cpu)} "
        f"over {result.seconds:.1f} s"
    )


def ingest_ratio(shape: Shape, count: int, connections: int) -> None:
    bare = [python(), "-m", "uvicorn", "--log-level", "warning", "--no-access-log",
            "benchmarks.bare_app:app"]  # fmt: skip
    serve = [python(), "-m", "services.app.cli", "serve"]
    results = {}
    for name, command in (("bare FastAPI", bare), ("switchboard", serve)):
        with webs(shape, [command, command], name.split()[0]):
            host = f"127.0.0.1:{shape.https_port}"
            drive(shape.https_port, shape.tls, status_callbacks(host, shape.url, 100), 8, None)
            requests = status_callbacks(host, shape.url, count // len(CALL_STATUSES))
            results[name] = drive(shape.https_port, shape.tls, requests, connections, None)
            print(f"ingest through nginx, {name:<13} {results[name].summary()}")
    ratio = results["switchboard"].throughput / results["bare FastAPI"].throughput
    print(f"    ratio to bare (target at least 0.5): {ratio:.2f}")


def recording_pipeline(shape: Shape, recordings: int) -> None:
    from tests.audio import call_recording
    from tests.fakes.twilio_api import FakeTwilio

    fake = FakeTwilio(ACCOUNT, AUTH_TOKEN)
    fake.start()
    wav = call_recording(30.0)
    env = {
        **shape.env,
        "SWITCHBOARD_TWILIO_API_BASE_URL": fake.url,
        "SWITCHBOARD_TWILIO_ACCOUNT_SID": ACCOUNT,
        "SWITCHBOARD_SMS_GATEWAY": "console",
    }
    url = env["SWITCHBOARD_DATABASE_URL"]
    try:
        for workers in (1, 2):
            serve = [python(), "-m", "services.app.cli", "serve"]
            shaped = Shape(shape.work, env, shape.url, shape.web_ports, shape.https_port, shape.tls)
            with ExitStack() as stack:
                stack.enter_context(webs(shaped, [serve, serve], f"rec{workers}-web"))
                client = stack.enter_context(
                    httpx.Client(base_url=shape.url, verify=shape.tls, timeout=30)
                )
                logs = [shape.work / f"rec{workers}-worker{index}.log" for index in range(workers)]
                for log in logs:
                    stack.enter_context(
                        process([python(), "-m", "services.app.cli", "worker", "--workers", "2"],
                                {**env, "SWITCHBOARD_LOG_LEVEL": "INFO"}, log)
                    )  # fmt: skip
                # Timed from when every worker is up: start-up is not throughput.
                deadline = time.monotonic() + 180
                while not all(
                    log.exists() and "consumer started" in log.read_text() for log in logs
                ):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the workers did not start")
                    time.sleep(0.2)
                started = time.perf_counter()
                sids = []
                for _ in range(recordings):
                    rsid, call = "RE" + secrets.token_hex(16), "CA" + secrets.token_hex(16)
                    fake.state.setdefault("media", {})[rsid] = {"wav": wav, "mode": "ok"}
                    params = {
                        "AccountSid": ACCOUNT, "CallSid": call, "RecordingSid": rsid,
                        "RecordingStatus": "completed",
                        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{rsid}",
                        "RecordingDuration": "30", "RecordingChannels": "2",
                    }  # fmt: skip
                    signature = sign(AUTH_TOKEN, f"{shape.url}/twilio/recordings", params)
                    answer = client.post(
                        "/twilio/recordings", data=params,
                        headers={"X-Twilio-Signature": signature},
                    )  # fmt: skip
                    answer.raise_for_status()
                    sids.append(rsid)
                engine = sa.create_engine(url)
                quoted = ",".join(f"'{sid}'" for sid in sids)
                while True:
                    with engine.connect() as connection:
                        left = connection.execute(sa.text(
                            f"SELECT count(*) FROM recordings WHERE recording_sid IN ({quoted})"
                            " AND state NOT IN ('done', 'failed')"
                        )).scalar_one()  # fmt: skip
                    if left == 0:
                        break
                    time.sleep(0.2)
                engine.dispose()
                seconds = time.perf_counter() - started
            print(
                f"recording pipeline, {workers} worker(s): {recordings} recordings of 30 s in "
                f"{seconds:.1f} s ({recordings / seconds * 60:.1f}/min)"
            )
    finally:
        fake.stop()


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--speed", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--recordings", type=int, default=40)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="1 minute at 1x, fewer requests")
    parser.add_argument(
        "--parts", default="replay,ingest,recordings", help="which measurements, comma-separated"
    )
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.speed, args.requests, args.recordings = 1.0, 1.0, 2000, 12
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    work = space.dir
    url = space.postgres_schema("topology")
    if url is None:
        space.check(False, "the topology runs on PostgreSQL, which does not answer")
        return
    web_ports, https_port = [free_port(), free_port()], free_port()
    conf = render_nginx(work / "nginx", web_ports=web_ports, https_port=https_port,
                        http_port=free_port())  # fmt: skip
    tls = ssl.create_default_context(cafile=str(work / "nginx" / "switchboard.crt"))
    redis = PrivateRedis(work)
    redis.start()
    public_url = f"https://127.0.0.1:{https_port}"
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": url,
        "SWITCHBOARD_DATA_DIR": str(work / "var"),
        "SWITCHBOARD_PUBLIC_URL": public_url,
        "SWITCHBOARD_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SWITCHBOARD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SWITCHBOARD_QUEUE_URL": redis.url,
        "SWITCHBOARD_EMBEDDED_WORKER": "false",
        "SWITCHBOARD_BLOB_URL": f"file://{work / 'blobs'}",
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
        "SWITCHBOARD_ACCESS_LOG": "false",
    }
    subprocess.run([python(), "-m", "services.app.cli", "db", "upgrade"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    shape = Shape(work, env, public_url, web_ports, https_port, tls)
    with process([nginx, "-p", str(work / "nginx"), "-c", str(conf), "-e",
                  str(work / "nginx" / "error.log")], env, work / "nginx.log"):  # fmt: skip
        try:
            print(f"on {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
            parts = set(args.parts.split(","))
            if "replay" in parts:
                replay(shape, args.minutes, args.speed, args.connections)
            if "ingest" in parts:
                ingest_ratio(shape, args.requests, args.connections)
            if "recordings" in parts:
                recording_pipeline(shape, args.recordings)
        finally:
            redis.stop()
    sys.stdout.flush()


if __name__ == "__main__":
    run("topology", main)
