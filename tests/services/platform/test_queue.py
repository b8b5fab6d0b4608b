"""Background jobs run on the embedded SQLite queue and on Redis, with retries and ETAs."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from huey.api import Huey

from services.platform.queue import Jobs, make_huey
from tests.support import wait_until


@pytest.fixture
def jobs(huey: Huey) -> Iterator[Jobs]:
    queue = Jobs(huey, embedded=True)
    queue.bind({"context": "bound"})
    yield queue
    queue.stop_consumer()


def test_a_job_runs_with_the_bound_context_and_its_payload(jobs: Jobs) -> None:
    seen: list[tuple[Any, dict[str, Any]]] = []
    jobs.register("test.record", lambda context, payload: seen.append((context, payload)))
    jobs.enqueue("test.record", {"recording_id": 7})
    jobs.start_consumer()
    wait_until("the job ran", lambda: seen)
    assert seen == [({"context": "bound"}, {"recording_id": 7})]


def test_a_failing_job_is_retried_until_it_succeeds(jobs: Jobs) -> None:
    attempts: list[float] = []
    done = threading.Event()

    def flaky(_context: Any, _payload: dict[str, Any]) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise ConnectionError("the far side is down")
        done.set()

    jobs.register("test.flaky", flaky, retries=5, retry_delay=1.0, retry_backoff=3.0)
    jobs.enqueue("test.flaky", {})
    jobs.start_consumer()
    wait_until("the third attempt succeeded", done.is_set)
    assert len(attempts) == 3
    # Waits of about one then three seconds (the scheduler ticks each second): backoff.
    first_wait, second_wait = attempts[1] - attempts[0], attempts[2] - attempts[1]
    assert 0.9 < first_wait < 2.5
    assert second_wait > first_wait + 0.9


def test_a_job_with_an_eta_waits_for_it(jobs: Jobs) -> None:
    from datetime import UTC, datetime

    ran: list[float] = []
    jobs.register("test.later", lambda _c, _p: ran.append(time.monotonic()))
    queued_at = time.monotonic()
    jobs.enqueue("test.later", {}, eta=datetime.now(UTC) + timedelta(seconds=1.5))
    jobs.start_consumer()
    wait_until("the job ran", lambda: ran)
    assert ran[0] - queued_at >= 1.4


def test_a_name_is_registered_once(jobs: Jobs) -> None:
    jobs.register("test.once", lambda _c, _p: None)
    with pytest.raises(ValueError, match="twice"):
        jobs.register("test.once", lambda _c, _p: None)


def test_a_queue_url_of_another_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="QUEUE_URL"):
        make_huey("amqp://localhost", tmp_path)


def test_the_embedded_queue_file_is_its_owners_only(tmp_path: Path) -> None:
    """Queued jobs name requests and texts: the file is created 0600, like the master key."""
    previous = os.umask(0o022)
    try:
        huey = make_huey(None, tmp_path / "var")
        huey.enqueue(huey.task(name="noop")(lambda: None).s())
        for name in ("queue.db", "queue.db-wal", "queue.db-shm", "queue.db-journal"):
            file = tmp_path / "var" / name
            if file.exists():
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, name
        assert (tmp_path / "var" / "queue.db").exists()
    finally:
        os.umask(previous)
