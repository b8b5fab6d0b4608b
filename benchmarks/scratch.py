"""What a benchmark leaves behind: nothing, however it ends.

A benchmark runs inside ``scratch(name)``: its files go under ``Scratch.dir`` (a fresh
folder in the system's temporary directory) and its PostgreSQL schemas come from
``Scratch.postgres_schema``. Both are removed when the benchmark ends, fails, is stopped
with Ctrl-C (SIGINT) or is killed with SIGTERM or SIGHUP. The benchmark's own correctness
checks go through ``Scratch.check``; ``run`` exits 1 when any failed, so a run that
measured something wrong never reads as a success.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn

import sqlalchemy as sa

POSTGRES_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """Raised in the main thread by a stop signal, so every ``finally`` runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Scratch:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"switchboard-{name}-"))
        self.schemas: list[str] = []
        self.failures: list[str] = []

    def postgres_schema(self, label: str) -> str | None:
        """A new, empty schema of this run's own (dropped at the end) and the database URL
        that works in it; None when no PostgreSQL server answers."""
        schema = f"sb_bench_{label}_{secrets.token_hex(4)}"
        engine = sa.create_engine(POSTGRES_URL)
        try:
            with engine.begin() as connection:
                self.schemas.append(schema)
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        except sa.exc.OperationalError:
            self.schemas.remove(schema)
            print("PostgreSQL not reachable: measuring without it", flush=True)
            return None
        finally:
            engine.dispose()
        print(f"PostgreSQL schema {schema} (dropped when the benchmark ends)", flush=True)
        return POSTGRES_URL + f"?options=-csearch_path%3D{schema}"

    def check(self, ok: bool, what: str) -> None:
        """A correctness check of the run: printed, and failing the run when not ``ok``."""
        if not ok:
            self.failures.append(what)
            print(f"CHECK FAILED: {what}", flush=True)

    def remove(self) -> None:
        if self.schemas:
            engine = sa.create_engine(POSTGRES_URL)
            try:
                with engine.begin() as connection:
                    for schema in self.schemas:
                        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                self.schemas.clear()
            except sa.exc.SQLAlchemyError as exc:
                print(f"could not drop schemas {self.schemas}: {type(exc).__name__}")
            finally:
                engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def scratch(name: str) -> Iterator[Scratch]:
    """A ``Scratch`` removed on every way out of the block, signals included."""
    previous = {signum: signal.signal(signum, _stop) for signum in STOP_SIGNALS}
    space = Scratch(name)
    try:
        yield space
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        space.remove()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(name: str, benchmark: Callable[[Scratch], None]) -> NoReturn:
    """Run ``benchmark`` in its scratch space and exit: 0 when every check held, 1 when one
    failed, 128 + the signal's number when stopped by one."""
    try:
        with scratch(name) as space:
            benchmark(space)
    except Stopped as stopped:
        print(f"\nstopped by {signal.Signals(stopped.signum).name}; cleaned up", file=sys.stderr)
        sys.exit(128 + stopped.signum)
    if space.failures:
        print(f"{len(space.failures)} correctness checks failed", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
