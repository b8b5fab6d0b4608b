"""Wrap-up latency and the monthly top-inquiries report, with many contacts stored.

Loads contacts spread over a year (with their topics, as wrap-ups leave them), first a
small baseline and then up to the full count, in the same database. At each size it
times the real wrap-up action (unit of work, audit entry, topics, presence) on contacts
not yet wrapped up, and the top-10 inquiries of a month (the report's own query), then
prints p50/p95 and the ratio of the full size to the baseline. Targets (issue 13):
wrap-up p95 under 20 ms with 5 million contacts; the monthly top inquiries under 1 s
on PostgreSQL.

    python -m benchmarks.contacts [--contacts 5000000] [--baseline 20000] [--backend both]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from benchmarks.backends import add_backend_option, each_backend, fresh_context
from benchmarks.scratch import Scratch, run
from services.contacts import actions as contact_actions
from services.contacts import service as contact_rules
from services.contacts.models import Contact, ContactTopic
from services.contacts.schemas import WrapUpIn
from services.contacts.service import kind_of
from services.knowledge import service as knowledge
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.reports.service import DateRange, top_inquiries
from storage.db import reading

TZ = ZoneInfo("America/New_York")
YEAR_START = datetime(2026, 1, 1, 5, tzinfo=UTC)
YEAR_SECONDS = 365 * 86_400
TOPICS = [f"topic-{n:03d}" for n in range(200)]
# Every outcome a wrap-up may have, an answered inquiry three times as often as each other.
RESOLUTIONS = ["information_provided", "information_provided", *contact_rules.RESOLUTIONS]
AGENTS = [f"agent{n:02d}" for n in range(60)]
CHUNK = 10_000
SUPERVISOR = Actor(None, "bench-supervisor", "supervisor", None)


def _topic(rng: random.Random) -> str:
    # A long tail: a few topics take most inquiries, as in a real 311 line.
    return TOPICS[min(int(rng.paretovariate(1.2)) - 1, len(TOPICS) - 1)]


def load(context: AppContext, first: int, last: int, *, seed: int) -> None:
    """Contacts ``first``..``last - 1`` (row ids ``first + 1``...), spread over 2026;
    one in ten is left open. Rows are built here and inserted in large batches."""
    rng = random.Random(seed)
    engine = context.engine
    for chunk in range(first, last, CHUNK):
        contacts, topic_rows = [], []
        for number in range(chunk, min(chunk + CHUNK, last)):
            started = YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS))
            ended = started + timedelta(seconds=rng.randint(60, 600))
            resolution = None if number % 10 == 0 else rng.choice(RESOLUTIONS)
            contacts.append(
                {
                    "id": number + 1,
                    "public_id": f"CT-{number:012d}",
                    "channel": "phone",
                    "direction": "inbound",
                    "agent": AGENTS[number % len(AGENTS)],
                    "started_at": started,
                    "ended_at": ended,
                    "resolution": resolution,
                    "anonymous_requests": 0,
                    "wrapped_up_at": None if resolution is None else ended + timedelta(seconds=45),
                    "created_at": started,
                    "updated_at": ended,
                }
            )
            if resolution is not None:
                codes = {_topic(rng) for _ in range(rng.choice((1, 1, 1, 2)))}
                topic_rows += [
                    {
                        "contact_id": number + 1,
                        "code": code,
                        "started_at": started,
                        "kind": kind_of(resolution),
                    }
                    for code in codes
                ]
        with engine.begin() as connection:
            connection.execute(sa.insert(Contact), contacts)
            connection.execute(sa.insert(ContactTopic), topic_rows)
        if chunk % 500_000 == 0 and chunk:
            print(f"    {chunk:,}", flush=True)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Explicit ids above: move the sequence past them for the app's own inserts.
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('contacts', 'id'), "
                "(SELECT max(id) FROM contacts))"
            )
        else:
            connection.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "postgresql":
        # What autovacuum does in service: statistics, and the visibility map that lets
        # the report read the index alone.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE contacts")
            connection.exec_driver_sql("VACUUM ANALYZE contact_topics")


def measure(fn: Callable[[int], object], runs: int) -> tuple[float, float]:
    latencies = []
    for attempt in range(runs):
        started = time.perf_counter()
        fn(attempt)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return (
        statistics.median(latencies) * 1000,
        latencies[int(0.95 * (len(latencies) - 1))] * 1000,
    )


def open_contacts(context: AppContext, count: int, seed: int) -> list[str]:
    with reading(context.db) as session:
        ids = session.scalars(
            sa.select(Contact.public_id).where(Contact.wrapped_up_at.is_(None)).limit(count * 20)
        ).all()
    rng = random.Random(seed)
    return rng.sample(list(ids), min(count, len(ids)))


def run_size(context: AppContext, args: argparse.Namespace, label: str) -> dict[str, float]:
    targets = open_contacts(context, args.wrap_ups, seed=len(label))
    bodies = [
        WrapUpIn(topics=[TOPICS[n % 20]], resolution="information_provided", notes="Asked twice")
        for n in range(len(targets))
    ]

    def wrap(run: int) -> None:
        contact_actions.wrap_up_contact(context, SUPERVISOR, targets[run], bodies[run])

    months = [date(2026, month, 1) for month in range(1, 13)]

    def top(run: int) -> None:
        first = months[run % 12]
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        with reading(context.db) as session:
            top_inquiries(session, DateRange(first, last), tz=TZ)

    def floor(run: int) -> None:
        with unit_of_work(context, SUPERVISOR, "bench.nothing"):
            pass

    wrap(0)  # warm the caches
    top(0)
    f50, f95 = measure(floor, 50)
    w50, w95 = measure(lambda run: wrap(run + 1), len(targets) - 1)
    t50, t95 = measure(top, args.reports)
    print(
        f"  {label:<10} wrap-up p50 {w50:7.2f} ms  p95 {w95:7.2f} ms "
        f"(an empty audited action here: p50 {f50:.2f}, p95 {f95:.2f}; "
        f"wrap-up p95 / empty p95 {w95 / f95:.2f})\n"
        f"  {'':<10} top inquiries of a month p50 {t50:8.1f} ms  p95 {t95:8.1f} ms",
        flush=True,
    )
    return {"wrap50": w50, "wrap95": w95, "top50": t50, "top95": t95}


def run_backend(name: str, url: str, args: argparse.Namespace, work: Path) -> None:
    print(f"\n{name}:", flush=True)
    context = fresh_context(url, work / name)
    with context.db.begin() as session:  # wrap-up topics are knowledge-base codes
        for code in TOPICS:
            knowledge.save(
                session,
                knowledge.ArticleChange(
                    code=code,
                    department="Public Works",
                    service_code=None,
                    translations=(knowledge.Translation("en", code, "Answer."),),
                ),
                by=None,
                via="import",
                now=context.clock.now(),
            )
    loaded = time.perf_counter()
    load(context, 0, args.baseline, seed=1)
    base = run_size(context, args, f"{args.baseline:,}")
    print(f"  loading up to {args.contacts:,} contacts", flush=True)
    load(context, args.baseline, args.contacts, seed=2)
    print(f"  loaded in {time.perf_counter() - loaded:.0f} s", flush=True)
    full = run_size(context, args, f"{args.contacts:,}")
    print(
        f"  ratio (full / baseline): wrap-up p95 {full['wrap95'] / base['wrap95']:.2f}, "
        f"top inquiries p95 {full['top95'] / base['top95']:.2f}",
        flush=True,
    )
    context.engine.dispose()


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=5_000_000)
    parser.add_argument("--baseline", type=int, default=20_000)
    parser.add_argument("--wrap-ups", type=int, default=300)
    parser.add_argument("--reports", type=int, default=24)
    add_backend_option(parser)
    args = parser.parse_args()
    work = space.dir
    print(
        f"{args.contacts:,} contacts (baseline {args.baseline:,}), {args.wrap_ups} wrap-ups "
        f"and {args.reports} monthly top-inquiries reports per size"
    )
    for name, url in each_backend(space, args.backend, "contacts.db", "contacts"):
        run_backend(name, url, args, work)


if __name__ == "__main__":
    run("contacts", main)
