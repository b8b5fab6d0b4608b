"""Search latency over encrypted contacts, against a plain indexed lookup in the same run.

Loads N service requests with contacts and M calls through the real sealing code
(every value sealed with AES-256-GCM, every key blind-indexed exactly as the services
do), plus the same values in the clear in side tables. Then times, per key (phone,
email, name, address, and calls by phone), the service's search (index, fetch, decrypt,
confirm) against the same ORM query on the plain indexed column, on SQLite and
PostgreSQL. Targets: p95 under 10 ms, ratio under 2. The last row, "name words", times
the name search's first step (which contacts hold every word, starting from the rarest)
against the same step weighing all the words together.

    python -m benchmarks.request_search [--requests 1000000] [--calls 5000000] [--queries 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from benchmarks.backends import add_backend_option, each_backend, fresh_context
from benchmarks.scratch import Scratch, run
from services.calls import service as calls
from services.calls.models import Call
from services.calls.progress import CallProgress
from services.platform.context import AppContext
from services.requests import service as requests
from services.requests.models import ContactNameToken, RequestContact, ServiceRequest
from services.requests.text import canonical_address, name_tokens
from storage.db import reading

FIRST = [
    "Ana",
    "José",
    "Mei",
    "Olu",
    "Priya",
    "Liam",
    "Fatima",
    "Noah",
    "Chloé",
    "Kwame",
    "Sofia",
    "Ivan",
    "Aaliyah",
    "Mateo",
    "Hana",
    "Omar",
    "Grace",
    "Diego",
    "Zoë",
    "Ravi",
]
LAST = [
    "Álvarez",
    "Smith",
    "Nguyen",
    "Okafor",
    "Patel",
    "Kowalski",
    "García",
    "Johnson",
    "Müller",
    "Mensah",
    "Rossi",
    "Petrov",
    "Williams",
    "Hernández",
    "Tanaka",
    "Haddad",
    "Brown",
    "López",
    "Dubois",
    "Sharma",
]
STREETS = [
    "Oak Street",
    "Market Street",
    "North Maple Avenue",
    "Lincoln Boulevard",
    "Elm Court",
    "Harbor Road",
    "West 4th Street",
    "Park Place",
]
CHUNK = 5000

plain = sa.MetaData()
plain_contacts = sa.Table(
    "bench_plain_contacts",
    plain,
    sa.Column("contact_id", sa.BigInteger, primary_key=True),
    sa.Column("request_id", sa.BigInteger, nullable=False),
    sa.Column("phone", sa.String(20), index=True),
    sa.Column("email", sa.String(120), index=True),
    sa.Column("address_key", sa.String(200), index=True),
)
plain_tokens = sa.Table(
    "bench_plain_tokens",
    plain,
    sa.Column("contact_id", sa.BigInteger, nullable=False),
    sa.Column("token", sa.String(40), nullable=False),
    sa.Index("ix_bench_plain_tokens", "token", "contact_id"),
)
plain_calls = sa.Table(
    "bench_plain_calls",
    plain,
    sa.Column("call_id", sa.BigInteger, primary_key=True),
    sa.Column("from_number", sa.String(20), index=True),
)


def phone_of(number: int) -> str:
    return f"+1{302 + number % 600:03d}{200 + (number // 600) % 800:03d}{number % 10_000:04d}"


def person(number: int) -> tuple[str, str, str, str]:
    first, last = FIRST[number % len(FIRST)], LAST[(number // len(FIRST)) % len(LAST)]
    name = f"{first} {last} {number}"  # a unique word keeps names distinguishable
    email = f"{first.lower()}.{number}@example.org".encode("ascii", "ignore").decode()
    address = f"{number % 9000 + 1} {STREETS[number % len(STREETS)]}, Apt {number % 40 + 1}"
    return name, phone_of(number), email, address


def _inserted_ids(connection: sa.Connection, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` of ``model`` in one statement; their new ids, in the rows' order."""
    inserted = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(connection.execute(inserted, rows).scalars().all())


def load(context: AppContext, n_requests: int, n_calls: int) -> None:
    keyring, engine = context.keyring, context.engine
    start = datetime(2025, 1, 1, tzinfo=UTC)
    plain.create_all(engine)
    print(f"  loading {n_calls:,} calls", flush=True)
    for first in range(0, n_calls, CHUNK):
        rows, clear = [], []
        for number in range(first, min(first + CHUNK, n_calls)):
            at = start + timedelta(seconds=number * 7)
            caller = phone_of(number % max(1, n_requests))
            event = calls.VoiceEvent(
                call_sid=f"CA{number:032x}",
                source="status",
                status="completed",
                sequence=3,
                occurred_at=at,
                received_at=at,
                from_raw=caller,
                to_raw="+13025550100",
                direction="inbound",
                duration_seconds=120,
            )
            rows.append(
                calls._new_call_values(
                    keyring, event, region="US", progress=CallProgress.first(event.progress)
                )
            )
            clear.append({"from_number": caller})
        with engine.begin() as connection:
            ids = _inserted_ids(connection, Call, rows)
            connection.execute(
                sa.insert(plain_calls),
                [{"call_id": i, **c} for i, c in zip(ids, clear, strict=True)],
            )
        if first % 500_000 == 0:
            print(f"    {first:,}", flush=True)
    print(f"  loading {n_requests:,} requests with contacts", flush=True)
    for first in range(0, n_requests, CHUNK):
        numbers = range(first, min(first + CHUNK, n_requests))
        request_rows = []
        for number in numbers:
            at = start + timedelta(minutes=number)
            request_rows.append(
                {
                    "public_id": f"SR-{number:010d}"[:14],
                    "service_code": "pothole",
                    "description": "bench",
                    "status": "open",
                    "channel": "phone",
                    "anonymous": False,
                    "created_at": at,
                    "updated_at": at,
                    "possible_duplicates": [],
                }
            )
        with engine.begin() as connection:
            request_ids = _inserted_ids(connection, ServiceRequest, request_rows)
            contact_rows, token_lists, clear = [], [], []
            for number, request_id, row in zip(numbers, request_ids, request_rows, strict=True):
                name, phone, email, address = person(number)
                normal = requests.normalise_contact(
                    requests.ContactDetails(name, phone, email, address), region="US", public=False
                )
                columns, tokens = requests.sealed_contact(keyring, row["public_id"], normal)
                contact_rows.append({"request_id": request_id, **columns})
                token_lists.append(tokens)
                clear.append((request_id, normal))
            contact_ids = _inserted_ids(connection, RequestContact, contact_rows)
            connection.execute(
                sa.insert(ContactNameToken),
                [
                    {"contact_id": c, "token_index": t}
                    for c, tokens in zip(contact_ids, token_lists, strict=True)
                    for t in tokens
                ],
            )
            connection.execute(
                sa.insert(plain_contacts),
                [
                    {
                        "contact_id": c,
                        "request_id": r,
                        "phone": n.phone,
                        "email": n.email,
                        "address_key": n.address_key,
                    }
                    for c, (r, n) in zip(contact_ids, clear, strict=True)
                ],
            )
            connection.execute(
                sa.insert(plain_tokens),
                [
                    {"contact_id": c, "token": token}
                    for c, (_r, n) in zip(contact_ids, clear, strict=True)
                    for token in n.name_tokens
                ],
            )
        if first % 200_000 == 0:
            print(f"    {first:,}", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


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


def measure(fn: Callable[[str], int], terms: list[str]) -> tuple[float, float, int]:
    latencies, found = [], 0
    for term in terms:
        started = time.perf_counter()
        found += fn(term)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return (
        statistics.median(latencies) * 1000,
        latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        found,
    )


def run_backend(name: str, url: str, args: argparse.Namespace, work: Path, space: Scratch) -> None:
    print(f"\n{name}: loading (this takes a while at full scale)", flush=True)
    context = fresh_context(url, work / name)
    loaded = time.perf_counter()
    load(context, args.requests, args.calls)
    print(f"  loaded in {time.perf_counter() - loaded:.0f} s", flush=True)
    rng = random.Random(7)
    people = [person(rng.randrange(args.requests)) for _ in range(args.queries)]
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
                    found = requests.contacts_named(session, indexes)
                    return len(found if isinstance(found, list) else session.scalars(found).all())
            finally:
                requests.RARE_WORD_LIMIT = kept

        return step

    cases = {
        "phone": ([p[1] for p in people], ours("phone"), baseline("phone")),
        "email": ([p[2] for p in people], ours("email"), baseline("email")),
        "name": ([p[0] for p in people], ours("name"), baseline("name")),
        "address": ([p[3] for p in people], ours("address"), baseline("address")),
        "calls by phone": ([p[1] for p in people], calls_ours, calls_baseline),
        # Its baseline is the same step weighing every word together (limit 0), as the
        # search did before it started from the rarest word.
        "name words": (
            [p[0] for p in people],
            name_words(requests.RARE_WORD_LIMIT),
            name_words(0),
        ),
    }
    heads = ("p50 ms", "p95 ms", "plain p50", "plain p95", "ratio p50", "ratio p95")
    print(f"  {'key':<15} " + " ".join(f"{head:>10}" for head in heads))
    for key, (terms, fn, base) in cases.items():
        measure(fn, terms[:20])  # warm caches
        measure(base, terms[:20])
        p50, p95, found = measure(fn, terms)
        b50, b95, base_found = measure(base, terms)
        space.check(
            found == base_found,
            f"{name} {key}: found {found}, the plain lookup {base_found}",
        )
        values = (p50, p95, b50, b95, p50 / b50, p95 / b95)
        print(f"  {key:<15} " + " ".join(f"{value:10.2f}" for value in values))
    context.engine.dispose()


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--queries", type=int, default=300)
    add_backend_option(parser)
    args = parser.parse_args()
    work = space.dir
    print(f"{args.requests:,} requests, {args.calls:,} calls, {args.queries} searches per key")
    for name, url in each_backend(space, args.backend, "search.db", "search"):
        run_backend(name, url, args, work, space)


if __name__ == "__main__":
    run("search", main)
