"""Job leases and the outbox: a job a worker took and never finished runs again after
its lease; a job whose state change committed survives a queue that lost its contents;
neither runs twice. On SQLite and PostgreSQL, on the embedded queue and on Redis."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huey.api import Huey
from sqlalchemy import func, select

from services.platform.models import QueuedJob
from services.platform.queue import JobLedger, Jobs, make_huey
from storage.db import make_engine, make_session_factory
from tests.deploy_support import PrivateRedis
from tests.ports import free_port
from tests.support import wait_until


def build_jobs(database_url: str, huey: Huey, lease_seconds: float) -> Jobs:
    engine = make_engine(database_url)
    jobs = Jobs(
        huey,
        embedded=True,
        ledger=JobLedger(make_session_factory(engine), lease_seconds=lease_seconds),
    )
    jobs.bind({"context": "bound"})
    return jobs


@pytest.fixture
def jobs(database_url: str, huey: Huey) -> Iterator[Jobs]:
    queue = build_jobs(database_url, huey, lease_seconds=2.0)
    yield queue
    queue.stop_consumer()


def owed(jobs: Jobs) -> int:
    assert jobs.ledger is not None
    return jobs.ledger.owed()[0]


def counting(jobs: Jobs, name: str, **options: Any) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    lock = threading.Lock()

    def handler(_context: Any, payload: dict[str, Any]) -> None:
        with lock:
            runs.append(payload)

    jobs.register(name, handler, **options)
    return runs


def test_a_job_taken_by_a_worker_that_died_runs_again_after_its_lease(jobs: Jobs) -> None:
    runs = counting(jobs, "test.lease")
    jobs.enqueue("test.lease", {"recording_id": 7})
    # A worker took the job off the queue, leased it, and was killed before it finished.
    taken = jobs.huey.dequeue()
    assert taken is not None
    assert jobs.ledger is not None
    job_id = taken.args[1]
    assert jobs.ledger.claim(job_id) is not None
    assert jobs.sweep() == 0  # the lease still holds: nobody else may run it yet
    assert jobs.ledger.claim(job_id) is None
    jobs.start_consumer()
    wait_until("the job ran", lambda: runs)
    wait_until("nothing is owed", lambda: owed(jobs) == 0)
    assert runs == [{"recording_id": 7}]


def test_a_worker_that_is_alive_keeps_its_lease_for_as_long_as_the_job_runs(jobs: Jobs) -> None:
    starts: list[float] = []

    def slow(_context: Any, _payload: dict[str, Any]) -> None:
        starts.append(time.monotonic())
        time.sleep(5.0)  # two and a half leases

    jobs.register("test.slow", slow)
    jobs.enqueue("test.slow", {"recording_id": 8})
    jobs.start_consumer(workers=2)
    wait_until("the job started", lambda: starts)
    wait_until("nothing is owed", lambda: owed(jobs) == 0)
    assert len(starts) == 1


def test_the_same_job_queued_twice_is_owed_once_and_runs_once(jobs: Jobs) -> None:
    runs = counting(jobs, "test.twice")
    jobs.enqueue("test.twice", {"message_id": 3})
    jobs.enqueue("test.twice", {"message_id": 3})
    assert owed(jobs) == 1
    jobs.start_consumer()
    wait_until("nothing is owed or queued", lambda: owed(jobs) == 0 and jobs.pending() == 0)
    time.sleep(0.5)  # let a second delivery, if any, run
    assert runs == [{"message_id": 3}]


def test_a_queue_that_lost_its_contents_gets_every_owed_job_back_once(jobs: Jobs) -> None:
    runs = counting(jobs, "test.outbox")
    for number in range(3):
        jobs.enqueue("test.outbox", {"recording_id": number})
    assert jobs.pending() == 3
    jobs.huey.flush()  # what Redis restarted empty looks like: no tasks, no epoch marker
    assert jobs.pending() == 0
    assert jobs.sweep() == 3
    assert jobs.sweep() == 0  # pushed under the new epoch: not pushed again
    assert jobs.pending() == 3
    jobs.start_consumer()
    wait_until("nothing is owed", lambda: owed(jobs) == 0)
    assert sorted(run["recording_id"] for run in runs) == [0, 1, 2]


def test_a_job_owed_in_a_transaction_commits_or_rolls_back_with_it(jobs: Jobs) -> None:
    runs = counting(jobs, "test.record")
    assert jobs.ledger is not None
    with jobs.ledger.sessions() as session, session.begin():
        jobs.record(session, "test.record", {"recording_id": 1})
        session.rollback()
    with jobs.ledger.sessions.begin() as session:
        jobs.record(session, "test.record", {"recording_id": 2})
    # The process died before pushing it: the sweep pushes it, once.
    assert owed(jobs) == 1
    assert jobs.pending() == 0
    jobs.start_consumer()
    wait_until("nothing is owed", lambda: owed(jobs) == 0)
    assert runs == [{"recording_id": 2}]


def test_a_failing_job_stays_owed_while_it_has_retries_and_not_after(jobs: Jobs) -> None:
    attempts: list[int] = []

    def failing(_context: Any, _payload: dict[str, Any]) -> None:
        attempts.append(1)
        raise ConnectionError("the far side is down")

    jobs.register("test.failing", failing, retries=1, retry_delay=0.1)
    jobs.enqueue("test.failing", {})
    jobs.start_consumer()
    wait_until("the retry ran", lambda: len(attempts) == 2)
    wait_until("nothing is owed", lambda: owed(jobs) == 0)
    time.sleep(0.5)
    assert len(attempts) == 2


def test_an_unreachable_queue_leaves_the_job_owed_and_the_sweep_pushes_it(
    database_url: str, tmp_path: Path
) -> None:
    closed_port = free_port()
    down = build_jobs(database_url, make_huey(f"redis://127.0.0.1:{closed_port}/0", tmp_path), 2)
    down.register("test.down", lambda _c, _p: None)
    assert down.enqueue("test.down", {"recording_id": 5}) == ""
    assert owed(down) == 1
    # The same database, a queue that answers: the sweep finds the job never pushed.
    up = build_jobs(database_url, make_huey(None, tmp_path), 2)
    runs = counting(up, "test.down")
    wait_until("the sweep pushed the job", lambda: up.sweep() == 1, seconds=5)
    up.start_consumer()
    wait_until("nothing is owed", lambda: owed(up) == 0)
    up.stop_consumer()
    assert runs == [{"recording_id": 5}]


def test_a_lease_is_positive_and_at_most_five_minutes(database_url: str) -> None:
    sessions = make_session_factory(make_engine(database_url))
    for seconds in (0, -1, 301):
        with pytest.raises(ValueError, match="lease"):
            JobLedger(sessions, lease_seconds=seconds)


def test_a_payload_is_ids_and_flags_not_text(jobs: Jobs) -> None:
    jobs.register("test.big", lambda _c, _p: None)
    with pytest.raises(ValueError, match="too large"):
        jobs.enqueue("test.big", {"body": "x" * 400})
    assert owed(jobs) == 0


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_restarted_empty_loses_no_committed_job_and_doubles_none(
    database_url: str, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    jobs = build_jobs(database_url, make_huey(private_redis.url, tmp_path), lease_seconds=2.0)
    runs = counting(jobs, "test.restart")
    jobs.enqueue("test.restart", {"recording_id": 1})
    jobs.start_consumer()
    wait_until("the job ran", lambda: runs)
    jobs.stop_consumer()
    for number in (2, 3, 4):
        jobs.enqueue("test.restart", {"recording_id": number})
    assert jobs.pending() == 3
    private_redis.stop()
    # While Redis is down, a state change still commits its job, and enqueue says so.
    assert jobs.enqueue("test.restart", {"recording_id": 5}) == ""
    private_redis.start()
    assert jobs.pending() == 0
    jobs.start_consumer()
    wait_until("nothing is owed", lambda: owed(jobs) == 0)
    jobs.stop_consumer()
    assert sorted(run["recording_id"] for run in runs) == [1, 2, 3, 4, 5]
    assert jobs.ledger is not None
    with jobs.ledger.sessions() as session:
        assert session.scalar(select(func.count()).select_from(QueuedJob)) == 0
