"""The people and calls the search benchmark loads, and a bulk loader for them.

Person ``n`` is a pure function of ``n`` (a hash of it picks every part), so the
queries can name loaded people without reading the database back.

Names follow a city's shape: first names and surnames drawn from lists ordered by how
common they are (weights falling like 1/rank, the commonest surname near 1 % of people
as Smith is in the US census, the commonest first name near 2 %), a long tail of rare
surnames and some rare first names (made of syllables), and a middle name for one person
in ten. At a million people, about one name in fifteen has no word held by fewer than
2,000 people: the name search's all-common path; the others start from a rare word.

The loader builds each row with the services' own code (``normalise_contact``,
``sealed_contact``, ``_new_call_values``: the same keyring seal and blind index, so the
stored bytes are what filing the request would write) and inserts them with SQLAlchemy
Core executemany, a transaction per batch, ids given rather than returned.
"""

from __future__ import annotations

import bisect
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.calls import service as calls
from services.calls.models import Call
from services.calls.progress import CallProgress
from services.platform.context import AppContext
from services.platform.public_ids import ALPHABET
from services.requests import service as requests
from services.requests.models import (
    ContactNameToken,
    RequestContact,
    RequestStatusChange,
    ServiceRequest,
)
from services.requests.text import fold
from storage.crypto import Keyring


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(sep))


# Most common first.
FIRST_NAMES = _words(
    "James Mary Michael Maria Robert Jennifer John Linda David Patricia William Elizabeth "
    "José Susan Richard Jessica Joseph Sarah Thomas Karen Christopher Lisa Charles Nancy "
    "Daniel Ana Matthew Sandra Anthony Ashley Mark Emily Juan Kimberly Donald Donna "
    "Steven Michelle Paul Carol Andrew Amanda Joshua Melissa Kenneth Deborah Kevin "
    "Stephanie Brian Rebecca Luis Sharon George Laura Timothy Cynthia Carlos Dorothy "
    "Jason Amy Edward Kathleen Jeffrey Angela Ryan Shirley Jacob Brenda Gary Emma "
    "Nicholas Anna Eric Pamela Jonathan Nicole Stephen Samantha Larry Katherine Justin "
    "Christine Scott Helen Brandon Debra Benjamin Rachel Samuel Carolyn Gregory Janet "
    "Alexander Catherine Mohammed Fatima Wei Mei Priya Ravi Minh Kwame Olu Sofia Mateo "
    "Chloé Zoë Omar Aaliyah Hana Ivan Diego Grace Liam Noah Aisha Yusuf Ngozi Hiroshi"
)
SURNAMES = _words(
    "Smith Johnson Williams Brown Jones García Miller Davis Rodríguez Martínez Hernández "
    "López González Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Pérez Thompson "
    "White Harris Sánchez Clark Ramírez Lewis Robinson Walker Young Allen King Wright "
    "Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
    "Mitchell Carter Roberts Gómez Phillips Evans Turner Díaz Parker Cruz Edwards Collins "
    "Reyes Stewart Morris Morales Murphy Cook Rogers Gutiérrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chávez "
    "Wood James Bennett Gray Mendoza Ruiz Hughes Price Álvarez Castillo Sanders Patel "
    "Myers Long Ross Foster Jiménez"
)
# A long tail of rare surnames (30 x 30 x 30 of them) and of rare first names.
_STARTS = _words(
    "Ab Bel Car Dar El Fal Gor Hal Ist Jor Kal Lom Mar Nor Ol Pel Quin Ros Sal Tor Ul Val "
    "Wen Yar Zel Bran Cor Dun Fen Grim"
)
_MIDDLES = _words(
    "a e i o u an en in on ar er or el il ol am em im om ad ed id ov ev ak ek is os us ay"
)
_SURNAME_ENDS = _words(
    "son berg ez ski ton ley man ford wick ström sen ini escu ov enko stein well dale "
    "ridge quist oglu ian ides ardt as ot eau mann ero dottir"
)
_FIRST_ENDS = _words("a ia ine elle o ric ton ara ika yn")
SHARE_OF_LISTED_SURNAMES = 0.17  # the census's top hundred hold about a sixth of people
SHARE_OF_RARE_FIRST_NAMES = 0.15
SHARE_WITH_MIDDLE_NAME = 0.10
STREETS = _words(
    "Oak Street, Market Street, North Maple Avenue, Lincoln Boulevard, Elm Court, Harbor "
    "Road, West 4th Street, Park Place, Cedar Lane, Washington Avenue, Jefferson Street, "
    "South Main Street, Lakeview Drive, Hillside Terrace, Pine Street, River Road, Church "
    "Street, Highland Avenue, Sunset Boulevard, Mill Road, East 12th Street, Franklin "
    "Avenue, Walnut Street, Spring Street, Chestnut Street, Ridge Road, Madison Avenue, "
    "Forest Avenue, College Avenue, Union Street",
    ",",
)
CALLEE = "+13025550100"
START = datetime(2025, 1, 1, tzinfo=UTC)
_MASK = (1 << 64) - 1


def _mix(number: int, salt: int) -> float:
    """A uniform value in [0, 1) from ``number`` and ``salt`` (splitmix64's finaliser)."""
    z = (number * 0x9E3779B97F4A7C15 + salt * 0xD1B54A32D192ED03 + 1) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) / 2.0**64


def _falling(count: int, shift: int) -> list[float]:
    """Cumulative weights 1/(rank + shift) of ``count`` ranks."""
    total, cumulative = 0.0, []
    for rank in range(1, count + 1):
        total += 1 / (rank + shift)
        cumulative.append(total)
    return cumulative


def _pick(cumulative: list[float], share: float) -> int:
    return min(len(cumulative) - 1, bisect.bisect_right(cumulative, share * cumulative[-1]))


_FIRST_WEIGHTS = _falling(len(FIRST_NAMES), 20)
_SURNAME_WEIGHTS = _falling(len(SURNAMES), 5)
_RARE_SURNAME_WEIGHTS = _falling(len(_STARTS) * len(_MIDDLES) * len(_SURNAME_ENDS), 100)
_RARE_FIRST_WEIGHTS = _falling(len(_STARTS) * len(_MIDDLES) * len(_FIRST_ENDS), 50)


def _syllables(index: int, ends: Sequence[str]) -> str:
    start, rest = divmod(index, len(_MIDDLES) * len(ends))
    middle, end = divmod(rest, len(ends))
    return _STARTS[start] + _MIDDLES[middle] + ends[end]


def _first_name(number: int, salt: int) -> str:
    if _mix(number, salt) < SHARE_OF_RARE_FIRST_NAMES:
        return _syllables(_pick(_RARE_FIRST_WEIGHTS, _mix(number, salt + 1)), _FIRST_ENDS)
    return FIRST_NAMES[_pick(_FIRST_WEIGHTS, _mix(number, salt + 1))]


def _surname(number: int) -> str:
    if _mix(number, 10) < SHARE_OF_LISTED_SURNAMES:
        return SURNAMES[_pick(_SURNAME_WEIGHTS, _mix(number, 11))]
    return _syllables(_pick(_RARE_SURNAME_WEIGHTS, _mix(number, 11)), _SURNAME_ENDS)


def phone_of(number: int) -> str:
    """A US number of its own for each ``number`` below 4.8 billion."""
    line = (number // 480_000 + 7 * number) % 10_000
    return f"+1{302 + number % 600:03d}{200 + (number // 600) % 800:03d}{line:04d}"


@dataclass(frozen=True)
class Person:
    name: str
    phone: str
    email: str
    address: str


def person(number: int) -> Person:
    """Who filed request ``number``."""
    first, last = _first_name(number, 1), _surname(number)
    middle = _first_name(number, 20) if _mix(number, 30) < SHARE_WITH_MIDDLE_NAME else None
    name = " ".join(part for part in (first, middle, last) if part)
    email = f"{fold(first)}.{number}@example.org"
    house = 1 + int(_mix(number, 40) * 9999)
    street = STREETS[int(_mix(number, 41) * len(STREETS))]
    unit = int(_mix(number, 42) * 80)
    address = f"{house} {street}" + (f", Apt {unit}" if unit < 40 else "")
    return Person(name, phone_of(number), email, address)


def public_id_of(number: int) -> str:
    """Request ``number``'s reference in the service's format (SR-XXXXX-XXXXX)."""
    digits = []
    for _ in range(10):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    text = "".join(reversed(digits))
    return f"SR-{text[:5]}-{text[5:]}"


# The same keys in the clear, for the plain indexed lookup every search is compared with.
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
_REQUESTS: sa.Table = ServiceRequest.__table__  # type: ignore[assignment]
_HISTORY: sa.Table = RequestStatusChange.__table__  # type: ignore[assignment]
_CONTACTS: sa.Table = RequestContact.__table__  # type: ignore[assignment]
_TOKENS: sa.Table = ContactNameToken.__table__  # type: ignore[assignment]
_CALLS: sa.Table = Call.__table__  # type: ignore[assignment]
_TABLES = {
    table.name: table
    for table in (_REQUESTS, _HISTORY, _CONTACTS, _TOKENS, _CALLS, *plain.tables.values())
}

# (table name, rows): names rather than tables, so the rows travel between processes.
Rows = list[tuple[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class FirstIds:
    """The first free id of each table the loader gives ids in."""

    request: int
    contact: int
    call: int


def request_rows(keyring: Keyring, numbers: range, ids: FirstIds) -> Rows:
    """The rows of requests ``numbers`` (their history, sealed contact and name words)
    and of their plain twins: request ``n`` and its contact take id ``n + ids.*``."""
    request_rows, history, contact_rows, tokens, clear, clear_tokens = [], [], [], [], [], []
    for number in numbers:
        at = START + timedelta(minutes=number)
        public_id = public_id_of(number)
        request_id, contact_id = ids.request + number, ids.contact + number
        request_rows.append(
            {
                "id": request_id,
                "public_id": public_id,
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
        history.append(
            {
                "request_id": request_id,
                "status": "open",
                "note": None,
                "public": True,
                "changed_at": at,
                "changed_by_id": None,
            }
        )
        who = person(number)
        normal = requests.normalise_contact(
            requests.ContactDetails(who.name, who.phone, who.email, who.address),
            region="US",
            public=False,
        )
        columns, indexes = requests.sealed_contact(keyring, public_id, normal)
        contact_rows.append({"id": contact_id, "request_id": request_id, **columns})
        tokens.extend({"contact_id": contact_id, "token_index": index} for index in indexes)
        clear.append(
            {
                "contact_id": contact_id,
                "request_id": request_id,
                "phone": normal.phone,
                "email": normal.email,
                "address_key": normal.address_key,
            }
        )
        clear_tokens.extend({"contact_id": contact_id, "token": t} for t in normal.name_tokens)
    return [
        (_REQUESTS.name, request_rows),
        (_HISTORY.name, history),
        (_CONTACTS.name, contact_rows),
        (_TOKENS.name, tokens),
        (plain_contacts.name, clear),
        (plain_tokens.name, clear_tokens),
    ]


def call_rows(keyring: Keyring, numbers: range, n_requests: int, ids: FirstIds) -> Rows:
    """The rows of calls ``numbers``, call ``n`` from the phone of request ``n`` modulo
    ``n_requests``, with id ``n + ids.call``, and of their plain twins."""
    rows, clear = [], []
    for number in numbers:
        at = START + timedelta(seconds=number * 7)
        caller = phone_of(number % max(1, n_requests))
        event = calls.VoiceEvent(
            call_sid=f"CA{number:032x}",
            source="status",
            status="completed",
            sequence=3,
            occurred_at=at,
            received_at=at,
            from_raw=caller,
            to_raw=CALLEE,
            direction="inbound",
            duration_seconds=120,
        )
        values = calls._new_call_values(
            keyring, event, region="US", progress=CallProgress.first(event.progress)
        )
        rows.append({"id": ids.call + number, **values})
        clear.append({"call_id": ids.call + number, "from_number": caller})
    return [(_CALLS.name, rows), (plain_calls.name, clear)]


def first_free_ids(connection: sa.Connection) -> FirstIds:
    def after(table: sa.Table) -> int:
        return int(connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1

    return FirstIds(after(_REQUESTS), after(_CONTACTS), after(_CALLS))


# The building happens in worker processes (forked, so they share the keyring's
# unwrapped keys); the parent only inserts. They read no database while building.
_worker: dict[str, Keyring] = {}


def _build(job: tuple[str, range, int, FirstIds]) -> Rows:
    kind, numbers, n_requests, ids = job
    keyring = _worker["keyring"]
    if kind == "requests":
        return request_rows(keyring, numbers, ids)
    return call_rows(keyring, numbers, n_requests, ids)


def _start_worker(keyring: Keyring, engine: sa.Engine) -> None:
    # The parent cleans up on Ctrl-C and ends its workers with SIGTERM: they just stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    engine.dispose(close=False)  # the parent's connections stay the parent's
    _worker["keyring"] = keyring


@dataclass(frozen=True)
class LoadReport:
    requests: int
    calls: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return (self.requests + self.calls) / self.seconds


def bulk_load(
    context: AppContext,
    n_requests: int,
    n_calls: int,
    *,
    batch: int = 5_000,
    workers: int = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> LoadReport:
    """Load ``n_requests`` requests (each with a sealed contact) and ``n_calls`` calls.

    ``workers`` processes build the rows while this one inserts them (0: build here).
    SQLite runs without fsync (synchronous=OFF) on the loading connection only; each batch
    is one transaction on either database.
    """
    keyring, engine = context.keyring, context.engine
    keyring.check_open()
    keyring.active_data_key_id()
    plain.create_all(engine)
    started = time.perf_counter()
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            _pragma(connection, "synchronous=OFF")
        with connection.begin():
            ids = first_free_ids(connection)
        jobs = [
            ("calls", range(first, min(first + batch, n_calls)), n_requests, ids)
            for first in range(0, n_calls, batch)
        ] + [
            ("requests", range(first, min(first + batch, n_requests)), n_requests, ids)
            for first in range(0, n_requests, batch)
        ]
        done = 0
        for rows in _built(jobs, keyring, engine, workers):
            with connection.begin():
                for table, values in rows:
                    if values:
                        connection.execute(sa.insert(_TABLES[table]), values)
            done += len(rows[0][1])
            if done % 100_000 < batch:
                rate = done / (time.perf_counter() - started)
                progress(f"    {done:,} rows, {rate:,.0f} rows/s")
        if sqlite:
            _pragma(connection, "synchronous=FULL")  # as storage.db sets it
        else:
            _move_sequences_past(connection)
    if not sqlite:
        # What autovacuum does after such a load (since PostgreSQL 13 it vacuums tables
        # that are only inserted into, too): statistics, and the visibility map that lets
        # a search read an index alone. A test server may run without autovacuum. The
        # application never runs ANALYZE on SQLite, so neither does this.
        with engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in _TABLES.values():
                autocommit.exec_driver_sql(f"VACUUM ANALYZE {table.name}")
    return LoadReport(n_requests, n_calls, time.perf_counter() - started)


def _pragma(connection: sa.Connection, setting: str) -> None:
    """Set a SQLite setting outside any transaction (some refuse to change inside one)."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute(f"PRAGMA {setting}")  # type: ignore[attr-defined]


def _built(
    jobs: list[tuple[str, range, int, FirstIds]], keyring: Keyring, engine: sa.Engine, workers: int
) -> Iterator[Rows]:
    if workers == 0:
        _worker["keyring"] = keyring
        yield from map(_build, jobs)
        return
    fork = multiprocessing.get_context("fork")
    with fork.Pool(workers, initializer=_start_worker, initargs=(keyring, engine)) as pool:
        yield from pool.imap(_build, jobs, chunksize=1)


def _move_sequences_past(connection: sa.Connection) -> None:
    """PostgreSQL: each id sequence past the ids the loader gave, so the next row filed
    through the service takes a free one."""
    with connection.begin():
        for table in (_REQUESTS, _HISTORY, _CONTACTS, _TOKENS, _CALLS):
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                )
            )
