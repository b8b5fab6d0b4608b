"""Retention purge: 1 million expired rows with their blobs, while webhooks keep coming.

Fills a database with expired records (call events, calls, access-log lines, texts and
recordings whose encrypted blobs sit in the blob store), serves it with ``switchboard
serve``, and measures signed call-progress webhooks twice in the same run: with nothing
else going on (the baseline) and while ``switchboard retention run`` purges everything.
Prints purge rows per second, webhook p99 during the purge against p99 without it, and
checks that every expired row and blob went and every webhook event was stored.

    python -m benchmarks.retention_purge [--rows 1000000] [--recordings 20000]
        [--backend sqlite|postgresql] [--connections 4] [--batch-size N]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from benchmarks.load import LoadResult, drive, python, serve
from benchmarks.scratch import Scratch, run
from benchmarks.webhook_ingest import AUTH_TOKEN, callbacks
from services.calls.models import Call, CallEvent
from services.messaging.models import InboundText
from services.platform.models import AccessLogEntry
from services.recordings.models import Recording
from storage import migrate
from storage.blobs import open_blob_store
from tests.ports import free_port

CHUNK = 20_000


def fill(url: str, blob_url: str, rows: int, recordings: int) -> dict[str, int]:
    """Expired rows, two years old: recordings (with blobs) and their calls, then call
    events, access-log lines and texts in proportion up to ``rows`` in all."""
    engine = sa.create_engine(url)
    blobs = open_blob_store(blob_url)
    old = datetime.now(UTC) - timedelta(days=5 * 365)
    counts = {"recordings": recordings, "calls": recordings}
    rest = rows - 2 * recordings
    counts["call_events"] = rest * 6 // 10
    counts["access_log"] = rest * 3 // 10
    counts["inbound_texts"] = rest - counts["call_events"] - counts["access_log"]
    payload = os.urandom(4096)
    with engine.begin() as connection:
        for start in range(0, recordings, CHUNK):
            batch = range(start, min(recordings, start + CHUNK))
            sids = [f"CA{n:032x}" for n in batch]
            connection.execute(
                sa.insert(Call),
                [
                    {
                        "call_sid": sid,
                        "status": "completed",
                        "status_rank": 3,
                        "status_sequence": 3,
                        "status_at": old,
                        "started_at": old,
                        "ended_at": old,
                        "caller_withheld": False,
                        "created_at": old,
                        "updated_at": old,
                    }
                    for sid in sids
                ],
            )
            connection.execute(
                sa.insert(Recording),
                [
                    {
                        "recording_sid": "RE" + sid[2:],
                        "call_sid": sid,
                        "kind": "call",
                        "twilio_status": "completed",
                        "channels": 2,
                        "started_at": old,
                        "state": "done",
                        "attempts": 1,
                        "wrapped_key": b"k" * 60,
                        "blob_key": f"recordings/{sid}.enc",
                        "activity": {},
                        "created_at": old,
                        "updated_at": old,
                    }
                    for sid in sids
                ],
            )
            for sid in sids:
                blobs.put(f"recordings/{sid}.enc", payload)
        for start in range(0, counts["call_events"], CHUNK):
            connection.execute(
                sa.insert(CallEvent),
                [
                    {
                        "call_sid": f"CA{n // 4:032x}",
                        "source": "status",
                        "status": "completed",
                        "sequence_number": n % 4,
                        "occurred_at": old,
                        "received_at": old,
                    }
                    for n in range(start, min(counts["call_events"], start + CHUNK))
                ],
            )
        for start in range(0, counts["access_log"], CHUNK):
            connection.execute(
                sa.insert(AccessLogEntry),
                [
                    {
                        "at": old,
                        "method": "POST",
                        "route": "/twilio/voice/status",
                        "status": 204,
                        "duration_ms": 3,
                        "client": "203.0.113.0/24",
                    }
                    for _ in range(start, min(counts["access_log"], start + CHUNK))
                ],
            )
        for start in range(0, counts["inbound_texts"], CHUNK):
            connection.execute(
                sa.insert(InboundText),
                [
                    {
                        "message_sid": f"SM{n:032x}",
                        "from_sealed": b"s" * 40,
                        "from_index": secrets.token_bytes(32),
                        "body_sealed": b"b" * 80,
                        "received_at": old,
                    }
                    for n in range(start, min(counts["inbound_texts"], start + CHUNK))
                ],
            )
    engine.dispose()
    return counts


def remaining(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    tables = ("calls", "recordings", "call_events", "access_log", "inbound_texts")
    with engine.connect() as connection:
        counts = {
            table: int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in tables
        }
    engine.dispose()
    return counts


def expired_access_log(url: str) -> int:
    """Access-log lines from the filled years (the server's own lines are today's)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count())
            .select_from(AccessLogEntry)
            .where(AccessLogEntry.at < datetime.now(UTC) - timedelta(days=365))
        ).scalar_one()
    engine.dispose()
    return int(count)


def webhooks_until(port: int, done: threading.Event, connections: int, batch: int) -> LoadResult:
    """Webhooks in batches until ``done`` is set (at least one batch)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent, started = 0, time.perf_counter()
    while True:
        result = drive(port, callbacks(port, batch), connections)
        latencies += result.latencies
        sent += result.requests
        for status, count in result.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        if done.is_set():
            break
    return LoadResult(sent, time.perf_counter() - started, latencies, statuses)


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--recordings", type=int, default=20_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--baseline-requests", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=None, help="RETENTION_BATCH_SIZE")
    args = parser.parse_args()
    work = space.dir
    if args.backend == "sqlite":
        url = f"sqlite:///{work / 'purge.db'}"
    else:
        schema_url = space.postgres_schema("purge")
        if schema_url is None:
            space.check(False, "PostgreSQL answers (--backend postgresql)")
            return
        url = schema_url
    blob_url = f"file://{work / 'blobs'}"
    migrate.upgrade(url)
    started = time.perf_counter()
    counts = fill(url, blob_url, args.rows, args.recordings)
    print(
        f"filled {sum(counts.values())} expired rows and {args.recordings} blobs "
        f"in {time.perf_counter() - started:.0f} s: {counts}"
    )
    port = free_port()
    env = {
        "SWITCHBOARD_DATABASE_URL": url,
        "SWITCHBOARD_BLOB_URL": blob_url,
        "SWITCHBOARD_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SWITCHBOARD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SWITCHBOARD_DATA_DIR": str(work / "var"),
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
        "SWITCHBOARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SWITCHBOARD_EMBEDDED_WORKER": "false",
    }
    with serve(
        [python(), "-m", "services.app.cli", "serve", "--port", str(port)],
        port,
        env,
        work / "serve.log",
    ):
        drive(port, callbacks(port, 500), args.connections)  # warm up
        quiet = drive(port, callbacks(port, args.baseline_requests), args.connections)
        print(f"webhooks, no purge:     {quiet.summary()}")
        done = threading.Event()
        purge_env = {**os.environ, **env}
        if args.batch_size:
            purge_env["SWITCHBOARD_RETENTION_BATCH_SIZE"] = str(args.batch_size)
        purge_started = time.perf_counter()
        process = subprocess.Popen(
            [python(), "-m", "services.app.cli", "retention", "run"],
            env=purge_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        waiter = threading.Thread(target=lambda: (process.wait(), done.set()), daemon=True)
        waiter.start()
        try:
            during = webhooks_until(port, done, args.connections, 500)
            waiter.join()
        finally:
            if process.poll() is None:  # stopped early: the purge goes too
                process.terminate()
                process.wait(timeout=30)
        purge_seconds = time.perf_counter() - purge_started
        output = process.stdout.read() if process.stdout else ""
    print(f"webhooks, during purge: {during.summary()}")
    left = remaining(url)
    purged = sum(counts.values()) - (
        left["recordings"] + left["access_log"] + left["inbound_texts"]
    )
    purged -= max(0, left["calls"] - 0)  # webhook calls are new, counted below
    blobs_left = sum(1 for _ in (work / "blobs").rglob("*.enc"))
    print(output.strip())
    print(
        f"purge: {sum(counts.values())} rows in {purge_seconds:.1f} s = "
        f"{sum(counts.values()) / purge_seconds:,.0f} rows/s; blobs left {blobs_left}"
    )
    print(
        f"webhook p99 during purge / without: "
        f"{during.percentile(0.99) / quiet.percentile(0.99):.2f}x "
        f"({during.percentile(0.99) * 1000:.1f} ms vs {quiet.percentile(0.99) * 1000:.1f} ms); "
        f"webhook failures {sum(c for s, c in during.statuses.items() if s >= 300)}"
    )
    print(f"left after purge: {left} (calls and events are the webhooks' own, current)")
    space.check(process.returncode == 0, "the purge command succeeded")
    space.check(blobs_left == 0, "every expired recording's blob deleted")
    for table in ("recordings", "inbound_texts"):
        space.check(left[table] == 0, f"every expired row of {table} purged")
    space.check(expired_access_log(url) == 0, "every expired access-log line purged")
    space.check(
        all(status < 300 for status in (*quiet.statuses, *during.statuses)),
        "every webhook answered 2xx, before and during the purge",
    )


if __name__ == "__main__":
    run("purge", main)
