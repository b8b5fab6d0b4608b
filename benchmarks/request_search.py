"""Search latency over encrypted contacts, against a plain indexed lookup in the same run.

Loads N service requests with contacts and M calls built by the real sealing code
(every value sealed with AES-256-GCM, every key blind-indexed exactly as the services
do; benchmarks/search_data.py), plus the same values in the clear in side tables. Then
times, per key (phone, email, name, address, and calls by phone), the service's search
(index, fetch, decrypt, confirm) against the same ORM query on the plain indexed column,
on SQLite and PostgreSQL. Targets: p95 under 10 ms, ratio under 2.

The searches name people drawn at random from those loaded (seeded, so every run asks
the same), so common names are asked as often as a city's callers hold them. Two rows
split the name searches by the path they take: "name, rare word" (a word held by at most
RARE_WORD_LIMIT contacts, read first) and "name, all common". The last row, "name words",
times the name search's first step (which contacts hold every word, starting from the
rarest) against the same step intersecting every word's contacts (on SQLite; PostgreSQL's
planner picks the first word from its statistics, so both are the same query there).

Each search and its plain lookup take turns, pass after pass; with ``--rounds N`` every
search is timed N times and keeps its median, so that a pass slowed by another process
on a shared machine does not stand for the search. The machine's load is printed around
the measurements.

``--keep DIR`` keeps each loaded database (the SQLite file, the PostgreSQL schema and
the master key, named in DIR) and a later run with the same sizes measures it again
without loading; ``--drop-kept DIR`` removes them.

    python -m benchmarks.request_search [--requests 1000000] [--calls 5000000]
        [--queries 300] [--rounds 1] [--backend sqlite|postgresql|both] [--keep DIR] [--workers 0]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from benchmarks.backends import add_backend_option, each_backend, fresh_context
from benchmarks.scratch import POSTGRES_URL, Scratch, run
from benchmarks.search_data import bulk_load, person, plain_calls, plain_contacts, plain_tokens
from services.calls import service as calls
from services.calls.models import Call
from services.platform.context import AppContext
from services.requests import service as requests
from services.requests.models import ServiceRequest
from services.requests.text import canonical_address, name_tokens
from storage.db import reading


def _requests_query(condition: sa.ColumnElement[bool]) -> sa.Select[tuple[ServiceRequest]]:
    return (
        sa.select(ServiceRequest)
        .join(plain_contacts, plain_contacts.c.request_id == ServiceRequest.id)
        .where(condition)
        .options(
            selectinload(ServiceRequest.contact),
            selectinload(ServiceRequest.calls),
            selectinload(ServiceRequest.history),
        )
        .order_by(ServiceRequest.created_at.desc())
        .limit(100)
    )


@dataclass(frozen=True)
class Timing:
    p50: float  # milliseconds
    p95: float
    found: int


def _timing(per_term: list[list[float]], found: int) -> Timing:
    # Each term's median over the rounds: a pass cut short by another process on a shared
    # machine counts once, a term that is slow every time counts every time.
    latencies = sorted(statistics.median(times) for times in per_term)
    return Timing(
        statistics.median(latencies) * 1000,
        latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        found,
    )


def measure(
    fn: Callable[[str], int], base: Callable[[str], int], terms: list[str], rounds: int
) -> tuple[Timing, Timing]:
    """Every term through ``fn`` and through ``base``, pass after pass, ``rounds`` times."""
    times: dict[Callable[[str], int], list[list[float]]] = {
        fn: [[] for _ in terms],
        base: [[] for _ in terms],
    }
    found = {fn: 0, base: 0}
    for _ in range(rounds):
        for search in (fn, base):
            found[search] = 0
            for term, spent in zip(terms, times[search], strict=True):
                started = time.perf_counter()
                found[search] += search(term)
                spent.append(time.perf_counter() - started)
    return _timing(times[fn], found[fn]), _timing(times[base], found[base])


def has_rare_word(context: AppContext, name: str) -> bool:
    """Whether a word of ``name`` is held by at most RARE_WORD_LIMIT contacts (counted in
    the clear side table), so the name search starts from it."""
    with context.engine.connect() as connection:
        return any(
            connection.execute(
                sa.select(sa.func.count()).where(plain_tokens.c.token == word)
            ).scalar_one()
            <= requests.RARE_WORD_LIMIT
            for word in name_tokens(name)
        )


def measure_backend(
    name: str, context: AppContext, args: argparse.Namespace, space: Scratch
) -> None:
    rng = random.Random(7)
    people = [person(rng.randrange(args.requests)) for _ in range(args.queries)]
    names = [p.name for p in people]
    rare = [n for n in names if has_rare_word(context, n)]
    common = [n for n in names if n not in rare]
    print(
        f"  {len(names)} names asked: {len(rare)} with a word held by at most "
        f"{requests.RARE_WORD_LIMIT:,} contacts, {len(common)} all common",
        flush=True,
    )
    keyring, sessions = context.keyring, context.db

    def ours(kind: str) -> Callable[[str], int]:
        def search(term: str) -> int:
            with reading(sessions) as session:
                return len(
                    requests.search_requests(
                        session, keyring, requests.SearchKey(kind, term), region="US"
                    )
                )

        return search

    def baseline(kind: str) -> Callable[[str], int]:
        def lookup(term: str) -> int:
            with reading(sessions) as session:
                if kind == "name":
                    words = name_tokens(term)
                    ids = (
                        sa.select(plain_tokens.c.contact_id)
                        .where(plain_tokens.c.token.in_(words))
                        .group_by(plain_tokens.c.contact_id)
                        .having(sa.func.count() == len(words))
                    )
                    query = _requests_query(plain_contacts.c.contact_id.in_(ids))
                else:
                    column = {
                        "phone": plain_contacts.c.phone,
                        "email": plain_contacts.c.email,
                        "address": plain_contacts.c.address_key,
                    }[kind]
                    query = _requests_query(
                        column == (canonical_address(term) if kind == "address" else term)
                    )
                return len(session.scalars(query).all())

        return lookup

    def calls_ours(term: str) -> int:
        with reading(sessions) as session:
            return len(calls.search_calls(session, keyring, phone_e164=term))

    def calls_baseline(term: str) -> int:
        with reading(sessions) as session:
            query = (
                sa.select(Call)
                .join(plain_calls, plain_calls.c.call_id == Call.id)
                .where(plain_calls.c.from_number == term)
                .order_by(Call.started_at.desc())
                .limit(200)
            )
            return len(session.scalars(query).all())

    def name_words(limit: int) -> Callable[[str], int]:
        """The name search's first step alone: the contacts holding every word."""

        def step(term: str) -> int:
            indexes = {keyring.blind_index("name-token", word) for word in name_tokens(term)}
            kept, requests.RARE_WORD_LIMIT = requests.RARE_WORD_LIMIT, limit
            try:
                with reading(sessions) as session:
                    return len(session.scalars(requests.contacts_named(session, indexes)).all())
            finally:
                requests.RARE_WORD_LIMIT = kept

        return step

    cases = {
        "phone": ([p.phone for p in people], ours("phone"), baseline("phone")),
        "email": ([p.email for p in people], ours("email"), baseline("email")),
        "name": (names, ours("name"), baseline("name")),
        "name, rare word": (rare, ours("name"), baseline("name")),
        "name, all common": (common, ours("name"), baseline("name")),
        "address": ([p.address for p in people], ours("address"), baseline("address")),
        "calls by phone": ([p.phone for p in people], calls_ours, calls_baseline),
        # Its baseline is the same step taking every word as common (limit 0): the
        # intersection of every word's contacts, with no rarest word to start from.
        "name words": (names, name_words(requests.RARE_WORD_LIMIT), name_words(0)),
    }
    print(f"  load average before measuring: {_load()}", flush=True)
    heads = ("p50 ms", "p95 ms", "plain p50", "plain p95", "ratio p50", "ratio p95")
    print(f"  {'key':<17} " + " ".join(f"{head:>10}" for head in heads), flush=True)
    for key, (terms, fn, base) in cases.items():
        if not terms:
            print(f"  {key:<17} (none asked)")
            continue
        measure(fn, base, terms[:20], 1)  # warm caches
        ours, plain = measure(fn, base, terms, args.rounds)
        p50, p95, found = ours.p50, ours.p95, ours.found
        b50, b95, base_found = plain.p50, plain.p95, plain.found
        space.check(
            found == base_found,
            f"{name} {key}: found {found}, the plain lookup {base_found}",
        )
        values = (p50, p95, b50, b95, p50 / b50, p95 / b95)
        print(f"  {key:<17} " + " ".join(f"{value:10.2f}" for value in values), flush=True)
    print(f"  load average after measuring: {_load()}", flush=True)
    context.engine.dispose()


def _load() -> str:
    """The machine's load averages (1, 5 and 15 minutes) and its processors: latencies on
    a shared machine mean little without them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} processors"


def kept_databases(folder: Path, choice: str, args: argparse.Namespace) -> Iterator[Kept]:
    """Each backend's database kept in ``folder``: the one a former run loaded with the
    same sizes, else a new one, named in ``folder`` before anything is loaded into it (so
    ``--drop-kept`` finds it however the load ends), loaded by the caller."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("sqlite", "postgresql"):
        if choice not in (name, "both"):
            continue
        manifest = folder / f"{name}.json"
        if manifest.exists():
            kept = json.loads(manifest.read_text())
            same = (kept["requests"], kept["calls"]) == (args.requests, args.calls)
            if kept["loaded"] and same:
                yield Kept(name, kept["url"], kept["master_key"], folder, loaded=True)
                continue
            _drop(folder, name)
        if name == "sqlite":
            url = f"sqlite:///{folder / 'search.db'}"
        else:
            schema = f"sb_bench_kept_{secrets.token_hex(4)}"
            engine = sa.create_engine(POSTGRES_URL)
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            except sa.exc.OperationalError:
                print("PostgreSQL not reachable: measuring without it", flush=True)
                continue
            finally:
                engine.dispose()
            url = POSTGRES_URL + f"?options=-csearch_path%3D{schema}"
        new = Kept(name, url, base64.b64encode(os.urandom(32)).decode(), folder, loaded=False)
        new.save(args)
        yield new


class Kept:
    """A database loaded for this benchmark that outlives the run."""

    def __init__(self, name: str, url: str, master_key: str, folder: Path, *, loaded: bool):
        self.name, self.url, self.master_key = name, url, master_key
        self.folder, self.loaded = folder, loaded

    def save(self, args: argparse.Namespace) -> None:
        manifest = self.folder / f"{self.name}.json"
        text = json.dumps(
            {
                "url": self.url,
                "master_key": self.master_key,
                "requests": args.requests,
                "calls": args.calls,
                "loaded": self.loaded,
            }
        )
        # It holds the master key of the benchmark's made-up data: the owner's alone.
        descriptor = os.open(manifest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)


def _drop(folder: Path, name: str) -> None:
    """Remove the database of backend ``name`` kept in ``folder``."""
    manifest = folder / f"{name}.json"
    if not manifest.exists():
        return
    url = json.loads(manifest.read_text())["url"]
    if name == "postgresql":
        schema = url.rsplit("%3D", 1)[1]
        engine = sa.create_engine(POSTGRES_URL)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            engine.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(folder / f"search.db{suffix}").unlink(missing_ok=True)
        shutil.rmtree(folder / "data-sqlite", ignore_errors=True)
    shutil.rmtree(folder / f"data-{name}", ignore_errors=True)
    manifest.unlink()


def open_database(
    name: str, url: str, data_dir: Path, args: argparse.Namespace, *, master_key: str | None
) -> AppContext:
    """The application over the database at ``url``, loaded unless ``args.loaded``."""
    context = fresh_context(url, data_dir, master_key=master_key)
    if not args.loaded:
        print(f"\n{name}: loading", flush=True)
        report = bulk_load(
            context,
            args.requests,
            args.calls,
            batch=args.batch,
            workers=args.workers,
            progress=lambda line: print(line, flush=True),
        )
        print(
            f"  loaded {report.requests:,} requests and {report.calls:,} calls in "
            f"{report.seconds:.0f} s ({report.rows_per_second:,.0f} rows/s)",
            flush=True,
        )
    else:
        print(f"\n{name}: measuring the kept database (not loading)", flush=True)
    return context


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="time every search this many times and keep each one's median",
    )
    parser.add_argument("--batch", type=int, default=5_000, help="rows per transaction")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes building rows while the loader inserts (0: the loader builds them)",
    )
    parser.add_argument("--keep", type=Path, help="keep the loaded databases in this folder")
    parser.add_argument("--drop-kept", type=Path, help="remove the databases kept there")
    add_backend_option(parser)
    args = parser.parse_args()
    if args.drop_kept:
        for name in ("sqlite", "postgresql"):
            _drop(args.drop_kept, name)
        return
    print(f"{args.requests:,} requests, {args.calls:,} calls, {args.queries} searches per key")
    if args.keep:
        for kept in kept_databases(args.keep.resolve(), args.backend, args):
            args.loaded = kept.loaded
            context = open_database(
                kept.name,
                kept.url,
                kept.folder / f"data-{kept.name}",
                args,
                master_key=kept.master_key,
            )
            if not kept.loaded:
                kept.loaded = True
                kept.save(args)
            measure_backend(kept.name, context, args, space)
        return
    args.loaded = False
    for name, url in each_backend(space, args.backend, "search.db", "search"):
        context = open_database(name, url, space.dir / name, args, master_key=None)
        measure_backend(name, context, args, space)


if __name__ == "__main__":
    run("search", main)
