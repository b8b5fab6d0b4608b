"""The job queue: Huey on an SQLite file by default, on Redis at scale; the same tasks.

Why Huey: it is small, maintained, and has both storages this project needs (SQLite
for the embedded default, Redis for many workers) behind one API, with retries,
exponential backoff, scheduled (ETA) tasks and periodic tasks built in.

Jobs are registered by name with a handler ``handler(context, payload)``. Payloads are
small dictionaries of ids and flags: never phone numbers, names or message text, since
the queue is stored outside the encrypted database. A handler that raises is retried
with backoff until its retries run out.

``switchboard serve`` runs a consumer in-process when the queue is the embedded SQLite
file; ``switchboard worker`` runs one on its own (the way to go with Redis).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer
from huey.exceptions import RateLimitExceeded, RetryTask

from storage.db import create_private_file

log = logging.getLogger("switchboard.jobs")

JobHandler = Callable[[Any, dict[str, Any]], None]


class RetryLater(Exception):
    """Raised by a handler to run again after ``delay`` seconds without spending one of
    its retries (a rate limit, a message held until quiet hours end)."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.1f} s")
        self.delay = delay


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer inside the web process: uvicorn owns the signal handlers there."""

    def _set_signal_handlers(self) -> None:
        pass


def make_huey(queue_url: str | None, data_dir: Path, *, name: str = "switchboard") -> Huey:
    """Huey for ``QUEUE_URL``: ``redis://…`` or ``sqlite:///path``; none means the
    embedded SQLite file ``DATA_DIR/queue.db``."""
    if queue_url and queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name=name, url=queue_url, results=False, utc=True)
    if queue_url and queue_url.startswith("sqlite:///"):
        filename = Path(queue_url.removeprefix("sqlite:///"))
    elif queue_url:
        raise ValueError("QUEUE_URL must start with redis://, rediss://, unix:// or sqlite:///")
    else:
        filename = data_dir / "queue.db"
    create_private_file(filename)  # queued jobs name people's requests and texts
    return SqliteHuey(name=name, filename=str(filename), results=False, utc=True)


class Jobs:
    """Named jobs on one Huey instance, run with the application's context."""

    def __init__(self, huey: Huey, *, embedded: bool) -> None:
        self.huey = huey
        self.embedded = embedded
        self._context: Any = None
        self._tasks: dict[str, TaskWrapper] = {}
        self._consumer: Consumer | None = None

    def bind(self, context: Any) -> None:
        """The context handlers receive (set once by the application shell)."""
        self._context = context

    def register(
        self,
        name: str,
        handler: JobHandler,
        *,
        retries: int = 5,
        retry_delay: float = 5.0,
        retry_backoff: float = 2.0,
    ) -> None:
        """Make ``handler`` runnable as job ``name``, retried ``retries`` times with
        delays growing by ``retry_backoff`` from ``retry_delay`` seconds."""
        if name in self._tasks:
            raise ValueError(f"job {name!r} is registered twice")

        def run(payload: dict[str, Any]) -> None:
            if self._context is None:
                raise RuntimeError("the job queue has no application context bound")
            try:
                handler(self._context, payload)
            except RetryLater as later:
                raise RetryTask(delay=later.delay) from None

        self._tasks[name] = self.huey.task(
            retries=retries, retry_delay=retry_delay, retry_backoff=retry_backoff, name=name
        )(run)

    def register_periodic(
        self, name: str, handler: JobHandler, *, minute: str = "*", hour: str = "*"
    ) -> None:
        """Run ``handler`` on a cron-like schedule (in UTC) with an empty payload."""
        if name in self._tasks:
            raise ValueError(f"job {name!r} is registered twice")

        def run() -> None:
            if self._context is not None:
                handler(self._context, {})

        self._tasks[name] = self.huey.periodic_task(crontab(minute=minute, hour=hour), name=name)(
            run
        )

    def enqueue(
        self, name: str, payload: dict[str, Any] | None = None, *, eta: datetime | None = None
    ) -> str:
        """Queue job ``name``; with ``eta``, not before that instant. Returns the task id."""
        task = self._tasks[name]
        result = task.schedule(args=(payload or {},), eta=eta) if eta else task(payload or {})
        return str(result.id) if result is not None else ""

    def take_rate(self, name: str, *, per_second: int) -> None:
        """Count one use of ``name`` against ``per_second`` uses a second, shared by every
        worker through the queue's storage; RetryLater when over."""
        try:
            self.huey.rate_limit(name, per_second, 1).acquire()
        except RateLimitExceeded as exceeded:
            raise RetryLater(max(0.05, float(exceeded.delay))) from None

    def pending(self) -> int:
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())

    def start_consumer(self, *, workers: int = 2) -> None:
        """Run a consumer on threads of this process (embedded mode, tests)."""
        if self._consumer is None:
            consumer = _EmbeddedConsumer(
                self.huey,
                workers=workers,
                worker_type="thread",
                periodic=True,
                initial_delay=0.05,
                max_delay=0.5,
                scheduler_interval=1,
            )
            consumer.start()
            self._consumer = consumer

    def stop_consumer(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None

    def run_worker(self, *, workers: int = 4) -> None:
        """Run a consumer in the foreground until interrupted (``switchboard worker``)."""
        self.huey.create_consumer(workers=workers, worker_type="thread").run()
