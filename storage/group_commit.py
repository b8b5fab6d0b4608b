"""Group commit: units of work from many requests share one transaction and one fsync.

A webhook is acknowledged only after its event is durably committed. Committing each
event on its own costs a disk flush per request; here a single writer thread takes every
unit of work waiting at that moment, runs them in one transaction, commits once, and
only then answers each waiting request. Under load a batch grows, so throughput rises
while each request still waits for its own commit.

If a batch fails, each of its units is retried in a transaction of its own, so one bad
unit fails alone and the others still commit; a unit alone that loses a deadlock or a
serialization conflict to another writer (PostgreSQL) is tried again. So a unit of work
must do nothing but database work in the session it is given: it may run more than once
(in a failed batch that was rolled back, then alone).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
ItemT = TypeVar("ItemT")
# Handles several items of one kind in a session and returns one result per item, in order.
BatchHandler = Callable[[Session, list[Any]], list[Any]]
log = logging.getLogger("switchboard.group_commit")
_STOP = object()
# SQLSTATEs of a transaction that lost to another and may simply be run again.
_TRANSIENT = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
ATTEMPTS_ALONE = 4


def _transient(error: BaseException) -> bool:
    if not isinstance(error, DBAPIError):
        return False
    return getattr(error.orig, "sqlstate", None) in _TRANSIENT


def _handler_key(handler: Any) -> tuple[Any, Any]:
    """Handlers that are equal batch together: bound methods of equal objects (say two
    equal ``CallLog`` instances) compare by identity in Python, so compare their parts."""
    return (getattr(handler, "__func__", handler), getattr(handler, "__self__", None))


def _each(session: Session, works: list[Callable[[Session], Any]]) -> list[Any]:
    return [work(session) for work in works]


@dataclass
class _Unit:
    handler: BatchHandler
    item: Any
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class GroupCommitter:
    """Runs units of work in shared transactions on writer threads.

    SQLite takes one writer (it has one write lock); PostgreSQL several, whose
    batches commit side by side.

    A unit is either a plain ``work(session)`` callable or an item for a batch handler;
    consecutive items for the same handler reach it together, so it can write them
    with a few set-based statements instead of a few statements each.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        writers: int = 1,
        max_batch: int = 256,
        name: str = "ingest",
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"group-commit-{name}-{number}", daemon=True)
            for number in range(writers)
        ]
        self._started = False
        self._lock = threading.Lock()
        self.batches = 0
        self.units = 0

    def start(self) -> None:
        with self._lock:
            if not self._started:
                for thread in self._threads:
                    thread.start()
                self._started = True

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the writer thread."""
        with self._lock:
            if not self._started:
                return
            for _thread in self._threads:
                self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a shared transaction; return its result once that has committed."""
        result: T = await self.run_batched(_each, work)
        return result

    async def run_batched(
        self, handler: Callable[[Session, list[ItemT]], list[T]], item: ItemT
    ) -> T:
        """Hand ``item`` to ``handler`` with whatever else is waiting; return its result
        once the shared transaction has committed."""
        self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Unit(handler, item, loop, future))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Unit] = [first]
            while len(batch) < self._max_batch:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
                if unit is _STOP:
                    stopping = True  # the other writers get their own stop marker
                    break
                batch.append(unit)
            self._commit(batch)

    @staticmethod
    def _execute(session: Session, batch: list[_Unit]) -> list[Any]:
        """Runs every unit of one kind together, kinds in order of first arrival, so that
        a transaction writes each kind once: concurrent writers then take their row
        locks in the same order (see services/calls/service.py)."""
        groups: dict[tuple[Any, Any], list[int]] = {}
        for position, unit in enumerate(batch):
            groups.setdefault(_handler_key(unit.handler), []).append(position)
        results: list[Any] = [None] * len(batch)
        for positions in groups.values():
            handler = batch[positions[0]].handler
            items = [batch[position].item for position in positions]
            outcome = handler(session, items)
            if len(outcome) != len(items):
                raise RuntimeError("a batch handler must return one result per item")
            for position, result in zip(positions, outcome, strict=True):
                results[position] = result
        return results

    def _commit(self, batch: list[_Unit]) -> None:
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        try:
            with self._sessions.begin() as session:
                results = self._execute(session, batch)
        except Exception:  # noqa: BLE001 - each unit is retried alone below
            log.warning(
                "a shared batch failed; retrying its units one by one",
                extra={"units": len(batch)},
            )
            for unit in batch:
                self._commit_alone(unit)
            return
        self._count(len(batch))
        for unit, result in zip(batch, results, strict=True):
            unit.loop.call_soon_threadsafe(_resolve, unit.future, result)

    def _commit_alone(self, unit: _Unit) -> None:
        for attempt in range(1, ATTEMPTS_ALONE + 1):
            try:
                with self._sessions.begin() as session:
                    (result,) = self._execute(session, [unit])
            except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                if _transient(exc) and attempt < ATTEMPTS_ALONE:
                    log.warning("a unit lost to a concurrent writer; trying it again")
                    time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter
                    continue
                unit.loop.call_soon_threadsafe(_fail, unit.future, exc)
                return
            self._count(1)
            unit.loop.call_soon_threadsafe(_resolve, unit.future, result)
            return

    def _count(self, units: int) -> None:
        self.batches += 1
        self.units += units


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
