"""The embedded SQLite database is durable and takes concurrent writers in turn."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import sqlalchemy as sa

from storage.db import make_engine, make_session_factory, reading


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_concurrent_read_modify_write_loses_no_update(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    sessions = make_session_factory(engine)

    def bump() -> None:
        for _ in range(25):
            with sessions.begin() as session:
                value = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
                session.execute(sa.text("UPDATE counter SET n = :n"), {"n": value + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with reading(sessions) as session:
        assert session.execute(sa.text("SELECT n FROM counter")).scalar_one() == 100
    engine.dispose()


def test_a_read_session_opens_while_the_same_thread_writes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    sessions = make_session_factory(engine)
    with sessions.begin() as writer:
        writer.execute(sa.text("INSERT INTO t VALUES (1)"))
        with reading(sessions) as reader:
            # Sees the last committed state, not the open write, and does not block.
            assert reader.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
    engine.dispose()


def test_database_files_are_created_for_their_owner_only(tmp_path: Path) -> None:
    """The database and its write-ahead log hold personal data (sealed or not): like the
    master key, only the service's own account may read them."""
    previous = os.umask(0o022)  # a usual umask, which would leave them world-readable
    try:
        path = tmp_path / "var" / "switchboard.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
        engine.dispose()
    finally:
        os.umask(previous)
