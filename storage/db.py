"""Engine and session factory: SQLite (WAL) by default, PostgreSQL at scale."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_BEGIN_OPTION = "sqlite_begin"


def make_engine(url: str, *, pool_size: int = 10, pooled: bool = True) -> Engine:
    """Create the engine for ``url``.

    SQLite runs in WAL mode with ``synchronous=FULL`` so that a committed webhook is on
    disk before Twilio hears 200, foreign keys on, and every transaction opened with
    ``BEGIN IMMEDIATE``: SQLite has one writer at a time, and taking the write lock
    up front means a busy transaction waits its turn instead of failing half way.
    ``pooled=False`` opens a connection per use (migrations, one-shot commands).
    """
    pool_args: dict[str, Any] = (
        {"pool_size": pool_size, "max_overflow": pool_size} if pooled else {"poolclass": NullPool}
    )
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            create_private_file(Path(database))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **pool_args,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool_args)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty, readable and writable by its owner only (like the master
    key), unless it exists; a new folder above it is the owner's only too. An empty
    file is an empty SQLite database, and SQLite gives the write-ahead log and shared
    memory files the database file's own permissions."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The one session factory. Objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads only. On SQLite it does not wait for, or hold, the write lock,
    so it may be opened while another session of the same thread is writing."""
    with sessions() as session:
        session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
        yield session


def one_at_a_time(session: Session, name: str) -> None:
    """Wait until no other transaction holds the lock ``name``, then hold it until this
    transaction ends: a check-then-write (is this the last administrator? was this alert
    just sent?) that two transactions must not both pass. PostgreSQL takes an advisory
    lock keyed by ``name``; SQLite transactions begin IMMEDIATE, one writer at a time,
    so they are one at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(advisory_key(name))))


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key for ``name``: a stable signed 64-bit number."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
