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

With a ``JobLedger`` (as the application always builds it) every named job is also a
row in the database (``QueuedJob``), and the queue carries only the row's id:

- a job is written in the transaction of the state change that calls for it
  (``Jobs.record``) or, at the latest, before it is pushed (``Jobs.enqueue``): a push
  that fails leaves the row, and the row is pushed again;
- the worker that takes a job leases its row for ``JOB_LEASE_SECONDS`` and renews the
  lease while the job runs, so a worker killed mid-job lets its lease run out and the
  job is queued again within that time;
- each row names the queue "epoch" it was pushed under, a marker kept in the queue's own
  storage: when Redis comes back empty the marker is new, and every unfinished row of an
  older epoch is pushed again (none lost), once (a row is one job, and a delivery whose
  row is gone or held by another worker does nothing: none doubled).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer
from huey.exceptions import RateLimitExceeded, RetryTask
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.platform.models import QueuedJob
from storage.db import create_private_file
from storage.upsert import insert_ignoring_conflicts

log = logging.getLogger("switchboard.jobs")

# The longest lease a setting may ask for (the contract's bound).
MAX_LEASE_SECONDS = 300.0
# The marker in the queue's own storage that changes when the queue lost its contents.
EPOCH_KEY = "switchboard.queue-epoch"

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


def _utcnow() -> datetime:
    return datetime.now(UTC)


def dedupe_key(name: str, payload: dict[str, Any]) -> str:
    """The job's identity: its name and its payload, canonically written."""
    key = f"{name}:{json.dumps(payload, sort_keys=True, separators=(',', ':'))}"
    if len(key) > 255:
        raise ValueError(f"job {name!r} has a payload too large to queue (ids and flags only)")
    return key


@dataclass(frozen=True)
class OwedJob:
    id: int
    name: str
    payload: dict[str, Any]
    due_at: datetime


class JobLedger:
    """The jobs the queue owes, kept in the database (``QueuedJob``): the outbox that
    survives a queue that lost its contents, and the leases that survive a dead worker.

    Times are the machine's real UTC clock, not the application's (a test's manual
    clock must not stall or expire leases); ``now`` is injectable for tests.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        lease_seconds: float,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not 0 < lease_seconds <= MAX_LEASE_SECONDS:
            raise ValueError(f"a job lease must be more than 0 and at most {MAX_LEASE_SECONDS} s")
        self.sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.now = now

    @property
    def lease_step(self) -> timedelta:
        """How far a claim or a renewal holds a job: half the lease, renewed every
        quarter, so a dead worker's job is free again within half the lease and found by
        the next sweep (every quarter) well within the whole."""
        return self.lease / 2

    def record(
        self,
        session: Session,
        name: str,
        payload: dict[str, Any],
        *,
        due_at: datetime | None = None,
        epoch: str | None = None,
    ) -> None:
        """Write the job in ``session``'s transaction; nothing when it is owed already."""
        now = self.now()
        insert_ignoring_conflicts(
            session,
            QueuedJob,
            {
                "name": name,
                "dedupe_key": dedupe_key(name, payload),
                "payload": payload,
                "created_at": now,
                "due_at": due_at or now,
                "epoch": epoch,
                "lease_until": None,
                "lease_token": None,
                "attempts": 0,
            },
            conflict_columns=["dedupe_key"],
        )

    def owe(
        self, name: str, payload: dict[str, Any], *, due_at: datetime | None, epoch: str | None
    ) -> tuple[int, str | None]:
        """Record the job in its own transaction (if not owed already): its id and the
        epoch it was last pushed under."""
        with self.sessions.begin() as session:
            self.record(session, name, payload, due_at=due_at, epoch=epoch)
            row = session.execute(
                select(QueuedJob.id, QueuedJob.epoch).where(
                    QueuedJob.dedupe_key == dedupe_key(name, payload)
                )
            ).one()
            return int(row.id), row.epoch

    def mark_pushed(self, job_id: int, epoch: str | None) -> None:
        with self.sessions.begin() as session:
            session.execute(update(QueuedJob).where(QueuedJob.id == job_id).values(epoch=epoch))

    def claim(self, job_id: int) -> str | None:
        """Lease the job to this worker: a token, or None when the job is finished or
        held by another worker whose lease has not run out."""
        token, now = secrets.token_hex(16), self.now()
        with self.sessions.begin() as session:
            claimed = session.execute(
                update(QueuedJob)
                .where(
                    QueuedJob.id == job_id,
                    or_(QueuedJob.lease_until.is_(None), QueuedJob.lease_until < now),
                )
                .values(
                    lease_until=now + self.lease_step,
                    lease_token=token,
                    attempts=QueuedJob.attempts + 1,
                )
            )
        return token if getattr(claimed, "rowcount", 0) else None

    def renew(self, held: dict[int, str]) -> None:
        """Hold the running jobs ``held`` (id to token) for another lease step."""
        if not held:
            return
        until = self.now() + self.lease_step
        with self.sessions.begin() as session:
            for job_id, token in held.items():
                session.execute(
                    update(QueuedJob)
                    .where(QueuedJob.id == job_id, QueuedJob.lease_token == token)
                    .values(lease_until=until)
                )

    def finish(self, job_id: int, token: str) -> None:
        """The job ran to its end (done, or given up after its retries): owed no more."""
        with self.sessions.begin() as session:
            session.execute(
                delete(QueuedJob).where(QueuedJob.id == job_id, QueuedJob.lease_token == token)
            )

    def release(self, job_id: int, token: str, *, due_at: datetime) -> None:
        """The job will be retried from ``due_at``: free it for whichever worker gets it."""
        with self.sessions.begin() as session:
            session.execute(
                update(QueuedJob)
                .where(QueuedJob.id == job_id, QueuedJob.lease_token == token)
                .values(lease_until=None, lease_token=None, due_at=due_at)
            )

    def take_overdue(self, epoch: str, *, limit: int = 500) -> list[OwedJob]:
        """Jobs to push again, marked as being pushed (epoch None) so that one sweeper
        takes each: a lease that ran out (its worker died), a push under an older epoch
        (the queue lost it), a push that failed, or one long overdue (a delivery lost
        between the queue and a worker)."""
        now = self.now()
        lost_after = now - max(self.lease * 10, timedelta(minutes=15))
        unpushed_after = now - self.lease / 4
        owed = or_(
            QueuedJob.lease_until < now,
            QueuedJob.lease_until.is_(None)
            & (QueuedJob.due_at <= now)
            & (QueuedJob.epoch != epoch),
            QueuedJob.lease_until.is_(None)
            & QueuedJob.epoch.is_(None)
            & (QueuedJob.due_at <= unpushed_after),
            QueuedJob.lease_until.is_(None) & (QueuedJob.due_at < lost_after),
        )
        taken: list[OwedJob] = []
        with self.sessions.begin() as session:
            rows = session.execute(
                select(
                    QueuedJob.id,
                    QueuedJob.name,
                    QueuedJob.payload,
                    QueuedJob.due_at,
                    QueuedJob.lease_token,
                    QueuedJob.epoch,
                )
                .where(owed)
                .order_by(QueuedJob.due_at)
                .limit(limit)
            ).all()
            for row in rows:
                # Conditional on what was read: of two sweepers, one takes the row.
                same_holder = (
                    QueuedJob.lease_token.is_(None)
                    if row.lease_token is None
                    else QueuedJob.lease_token == row.lease_token
                )
                same_epoch = (
                    QueuedJob.epoch.is_(None) if row.epoch is None else QueuedJob.epoch == row.epoch
                )
                moved = session.execute(
                    update(QueuedJob)
                    .where(QueuedJob.id == row.id, same_holder, same_epoch, owed)
                    .values(lease_until=None, lease_token=None, epoch=None, due_at=now)
                )
                if getattr(moved, "rowcount", 0):
                    taken.append(OwedJob(row.id, row.name, dict(row.payload), now))
        return taken

    def owed(self) -> tuple[int, datetime | None]:
        """How many jobs are owed (queued, running or waiting for a retry), and since when
        the oldest of them has been due."""
        with self.sessions() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(QueuedJob.due_at)).select_from(QueuedJob)
            ).one()
            return int(count or 0), oldest


class Jobs:
    """Named jobs on one Huey instance, run with the application's context; with a
    ``JobLedger``, owed in the database and leased to the worker that runs them."""

    def __init__(self, huey: Huey, *, embedded: bool, ledger: JobLedger | None = None) -> None:
        self.huey = huey
        self.embedded = embedded
        self.ledger = ledger
        self._context: Any = None
        self._tasks: dict[str, TaskWrapper] = {}
        self._consumer: Consumer | None = None
        # Leases this process holds (job id to token), renewed by the keeper thread.
        self._held: dict[int, str] = {}
        self._held_lock = threading.Lock()
        self._keeper: threading.Thread | None = None
        self._stopping = threading.Event()

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

        def call(payload: dict[str, Any]) -> None:
            if self._context is None:
                raise RuntimeError("the job queue has no application context bound")
            try:
                handler(self._context, payload)
            except RetryLater as later:
                raise RetryTask(delay=later.delay) from None

        def run(payload: dict[str, Any], job_id: int | None = None, task: Any = None) -> None:
            if self.ledger is None or job_id is None:
                call(payload)
                return
            self._run_leased(call, payload, job_id, task)

        self._tasks[name] = self.huey.task(
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            name=name,
            context=True,
        )(run)

    def _run_leased(
        self,
        call: Callable[[dict[str, Any]], None],
        payload: dict[str, Any],
        job_id: int,
        task: Any,
    ) -> None:
        ledger = self.ledger
        assert ledger is not None
        token = ledger.claim(job_id)
        if token is None:
            # Finished already, or running on another worker (a second delivery).
            log.info("job %s is finished or held by another worker", job_id)
            return
        with self._held_lock:
            self._held[job_id] = token
        try:
            call(payload)
        except RetryTask as retry:
            ledger.release(job_id, token, due_at=ledger.now() + timedelta(seconds=retry.delay or 0))
            raise
        except Exception:
            if task is not None and getattr(task, "retries", 0) > 0:
                delay = float(getattr(task, "retry_delay", 0) or 0)
                ledger.release(job_id, token, due_at=ledger.now() + timedelta(seconds=delay))
            else:
                ledger.finish(job_id, token)  # its retries are spent: the handler gave up
            raise
        else:
            ledger.finish(job_id, token)
        finally:
            with self._held_lock:
                self._held.pop(job_id, None)

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

    def record(
        self,
        session: Session,
        name: str,
        payload: dict[str, Any] | None = None,
        *,
        eta: datetime | None = None,
    ) -> None:
        """Owe job ``name`` in ``session``'s transaction (the outbox): it commits or rolls
        back with the state change that calls for it. Push it after the commit with
        ``enqueue`` (or leave it to the sweep, which pushes it within a lease)."""
        if name not in self._tasks:
            raise KeyError(f"no job {name!r} is registered")
        if self.ledger is not None:
            self.ledger.record(session, name, payload or {}, due_at=eta)

    def enqueue(
        self, name: str, payload: dict[str, Any] | None = None, *, eta: datetime | None = None
    ) -> str:
        """Queue job ``name``; with ``eta``, not before that instant. Returns the task id,
        or "" when the queue could not be reached and the job waits in the database."""
        task, payload = self._tasks[name], payload or {}
        if self.ledger is None:
            result = task.schedule(args=(payload,), eta=eta) if eta else task(payload)
            return str(result.id) if result is not None else ""
        epoch = self._epoch_or_none()
        job_id, pushed_under = self.ledger.owe(name, payload, due_at=eta, epoch=epoch)
        return self._push(name, payload, job_id, eta=eta, epoch=epoch, recorded=pushed_under)

    def _push(
        self,
        name: str,
        payload: dict[str, Any],
        job_id: int,
        *,
        eta: datetime | None,
        epoch: str | None,
        recorded: str | None,
    ) -> str:
        assert self.ledger is not None
        task = self._tasks[name]
        try:
            if epoch is None:
                raise ConnectionError("the queue's epoch could not be read")
            args = (payload, job_id)
            result = task.schedule(args=args, eta=eta) if eta else task(*args)
        except Exception as exc:  # noqa: BLE001 - the row is the job; the sweep pushes it again
            log.warning("the queue is unreachable (%s); job %s waits", type(exc).__name__, job_id)
            if recorded is not None:
                self.ledger.mark_pushed(job_id, None)
            return ""
        if recorded != epoch:
            self.ledger.mark_pushed(job_id, epoch)
        return str(result.id) if result is not None else ""

    def _epoch_or_none(self) -> str | None:
        try:
            return self.epoch()
        except Exception as exc:  # noqa: BLE001 - an unreachable queue is waited out
            log.warning("the queue is unreachable (%s)", type(exc).__name__)
            return None

    def epoch(self) -> str:
        """The queue's current epoch: a marker in its own storage, made anew when the
        storage lost its contents (Redis restarted empty, the SQLite file replaced)."""
        storage = self.huey.storage
        found = storage.peek_data(EPOCH_KEY)
        if not isinstance(found, bytes | str):
            storage.put_if_empty(EPOCH_KEY, secrets.token_hex(8).encode())
            found = storage.peek_data(EPOCH_KEY)
        if not isinstance(found, bytes | str):
            raise RuntimeError("the queue's storage does not keep its epoch")
        return found.decode() if isinstance(found, bytes) else found

    def sweep(self) -> int:
        """Push again every job the ledger owes that no worker holds and the queue does
        not have (see ``JobLedger.take_overdue``); returns how many."""
        if self.ledger is None:
            return 0
        epoch = self.epoch()
        owed = self.ledger.take_overdue(epoch)
        for job in owed:
            if job.name not in self._tasks:
                log.warning("job %s names no registered job; left owed", job.id)
                continue
            self._push(job.name, job.payload, job.id, eta=None, epoch=epoch, recorded=None)
        if owed:
            log.info("pushed %d owed jobs again", len(owed))
        return len(owed)

    def renew_leases(self) -> None:
        if self.ledger is not None:
            with self._held_lock:
                held = dict(self._held)
            self.ledger.renew(held)

    def _keep(self) -> None:
        """Renew this process's leases and sweep, every quarter of a lease."""
        assert self.ledger is not None
        every = max(0.2, min(15.0, self.ledger.lease.total_seconds() / 4))
        while not self._stopping.wait(every):
            try:
                self.renew_leases()
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - the database or queue is away; try again
                log.warning("job leases could not be kept (%s)", type(exc).__name__)

    def start_keeper(self) -> None:
        """Start the thread that renews leases and pushes owed jobs again."""
        if self.ledger is not None and self._keeper is None:
            self._stopping.clear()
            self._keeper = threading.Thread(target=self._keep, name="job-leases", daemon=True)
            self._keeper.start()

    def stop_keeper(self) -> None:
        if self._keeper is not None:
            self._stopping.set()
            self._keeper.join(timeout=5)
            self._keeper = None

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
            self.start_keeper()

    def stop_consumer(self) -> None:
        if self._consumer is not None:
            self.stop_keeper()
            self._consumer.stop(graceful=True)
            self._consumer = None

    def run_worker(self, *, workers: int = 4) -> None:
        """Run a consumer in the foreground until interrupted (``switchboard worker``)."""
        self.start_keeper()
        try:
            self.huey.create_consumer(
                workers=workers, worker_type="thread", max_delay=1.0, scheduler_interval=1
            ).run()
        finally:
            self.stop_keeper()
