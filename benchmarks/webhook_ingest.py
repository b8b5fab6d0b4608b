"""Webhook ingest: signed call-progress callbacks, every one durably stored.

Throughput and p50/p99 latency of ``POST /twilio/voice/status`` on SQLite and PostgreSQL,
as a ratio against a bare FastAPI endpoint that parses the same form, all served the same
way (one uvicorn process) and driven by the same client in the same run.

    python -m benchmarks.webhook_ingest [--requests 8000] [--connections 16]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.load import (
    LoadResult,
    drive,
    progress_callbacks,
    python,
    serve,
    stored_events,
)
from benchmarks.scratch import Scratch, run
from tests.ports import free_port

AUTH_TOKEN = "bench-auth-token"


def callbacks(port: int, count: int) -> list[bytes]:
    """``count`` distinct, correctly signed progress callbacks, four per call leg."""
    start = datetime.now(UTC)
    requests: list[bytes] = []
    while len(requests) < count:
        requests += progress_callbacks(
            f"127.0.0.1:{port}",
            f"http://127.0.0.1:{port}",
            AUTH_TOKEN,
            {
                "AccountSid": "AC" + "1" * 32,
                "CallSid": "CA" + secrets.token_hex(16),
                "ParentCallSid": "CA" + secrets.token_hex(16),
                "Direction": "outbound-dial",
                "To": "client:water",
            },
            start,
        )
    return requests[:count]


def measure(
    argv: list[str], env: dict[str, str], count: int, connections: int, log: Path
) -> LoadResult:
    port = free_port()
    env = {**env, "SWITCHBOARD_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with serve([*argv, "--port", str(port)], port, env, log):
        drive(port, callbacks(port, min(1000, count)), connections)  # warm up
        return drive(port, callbacks(port, count), connections)


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    work = space.dir
    warm_up = min(1000, args.requests)
    backends = {"sqlite": f"sqlite:///{work / 'bench.db'}"}
    postgres = space.postgres_schema("ingest")
    if postgres:
        backends["postgresql"] = postgres
    uvicorn = [python(), "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    bare = measure(
        [*uvicorn, "benchmarks.bare_app:app"],
        {},
        args.requests,
        args.connections,
        work / "bare.log",
    )
    print(f"bare FastAPI endpoint      {bare.summary()}", flush=True)

    common = {
        "SWITCHBOARD_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SWITCHBOARD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SWITCHBOARD_DATA_DIR": str(work / "var"),
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
    }
    for name, url in backends.items():
        print(f"measuring switchboard on {name}", flush=True)
        env = {**common, "SWITCHBOARD_DATABASE_URL": url}
        subprocess.run(
            [python(), "-m", "services.app.cli", "db", "upgrade"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        result = measure(
            [python(), "-m", "services.app.cli", "serve"],
            env,
            args.requests,
            args.connections,
            work / f"{name}.log",
        )
        events = stored_events(url)
        print(
            f"switchboard on {name:<10} {result.summary()}\n"
            f"    ratio to bare: throughput {result.throughput / bare.throughput:.2f}, "
            f"p99 {result.percentile(0.99) / bare.percentile(0.99):.1f}x; "
            f"events stored {events} of {args.requests + warm_up} sent",
            flush=True,
        )
        space.check(set(result.statuses) == {204}, f"{name}: every webhook answered 204")
        space.check(events == args.requests + warm_up, f"{name}: every event stored once")


if __name__ == "__main__":
    run("ingest", main)
