"""Group commit: equal handlers write together, and a unit that loses a deadlock to
another writer is tried again instead of failing its webhook."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.group_commit import GroupCommitter, _Unit


@dataclass(frozen=True)
class Writer:
    """Like CallLog: a batch handler bound to an object that compares by value."""

    name: str
    calls: list[list[Any]] = field(default_factory=list, compare=False, hash=False)

    def record(self, session: Session, items: list[Any]) -> list[Any]:
        self.calls.append(list(items))
        return [f"{self.name}:{item}" for item in items]


def test_equal_handlers_write_together_whatever_comes_between() -> None:
    shared: list[list[Any]] = []
    first, second = Writer("log", shared), Writer("log", shared)
    other = Writer("other", [])
    loop = asyncio.new_event_loop()
    units = [
        _Unit(first.record, 1, loop, loop.create_future()),
        _Unit(other.record, "x", loop, loop.create_future()),
        _Unit(second.record, 2, loop, loop.create_future()),
        _Unit(first.record, 3, loop, loop.create_future()),
    ]
    results = GroupCommitter._execute(None, units)  # type: ignore[arg-type]
    loop.close()
    assert shared == [[1, 2, 3]] and other.calls == [["x"]]
    assert results == ["log:1", "other:x", "log:2", "log:3"]


class Deadlocked(Exception):
    sqlstate = "40P01"


def test_a_unit_that_loses_a_deadlock_is_tried_again(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    committer = GroupCommitter(sessionmaker(engine))
    attempts: list[int] = []

    def work(session: Session) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("INSERT …", {}, Deadlocked())
        return "done"

    def broken(session: Session) -> str:
        raise OperationalError("INSERT …", {}, ValueError("not transient"))

    async def both() -> tuple[str, BaseException | None]:
        done = await committer.run(work)
        try:
            await committer.run(broken)
        except OperationalError as error:
            return done, error
        return done, None

    try:
        done, error = asyncio.run(both())
    finally:
        committer.stop()
        engine.dispose()
    assert done == "done" and len(attempts) == 3
    assert error is not None  # other errors still reach the request, after one attempt


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_only_serialization_failures_and_deadlocks_count_as_transient(sqlstate: str) -> None:
    from storage.group_commit import _transient

    class Lost(Exception):
        pass

    Lost.sqlstate = sqlstate  # type: ignore[attr-defined]
    assert _transient(OperationalError("x", {}, Lost()))
    assert not _transient(OperationalError("x", {}, ValueError()))
    assert not _transient(RuntimeError())


def test_a_failed_batch_is_retried_unit_by_unit_and_only_the_bad_unit_fails(
    tmp_path: Path,
) -> None:
    """One bad event in a shared transaction must not take the others down with it:
    the batch rolls back, each unit runs alone, the good ones commit and are answered,
    and only the bad one's caller gets the error."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE events (name TEXT PRIMARY KEY)"))
    committer = GroupCommitter(sessionmaker(engine))

    def insert(session: Session, names: list[str]) -> list[str]:
        for name in names:
            if name == "bad":
                raise ValueError("a malformed event")
            session.execute(sa.text("INSERT INTO events VALUES (:name)"), {"name": name})
        return [f"stored {name}" for name in names]

    loop = asyncio.new_event_loop()
    units = [_Unit(insert, name, loop, loop.create_future()) for name in ("a", "bad", "b")]
    try:
        committer._commit(units)
        loop.run_until_complete(asyncio.sleep(0))
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT name FROM events ORDER BY name")).all()
    finally:
        loop.close()
        engine.dispose()
    assert [row[0] for row in stored] == ["a", "b"]
    assert units[0].future.result() == "stored a" and units[2].future.result() == "stored b"
    assert isinstance(units[1].future.exception(), ValueError)
    assert committer.batches == 2 and committer.units == 2  # two commits of one unit each
