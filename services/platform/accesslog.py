"""The app's own minimal access log: time, method, route template, status, duration and
the client's network (/24 or /48), and nothing more (no query string, no body, no user,
no full address). Kept one calendar month by the retention purge.

Entries are buffered and written in batches by a background thread, so logging costs a
request an append to a list, not a database write.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from services.platform.clock import Clock
from services.platform.models import AccessLogEntry
from services.platform.network import client_network

log = logging.getLogger("switchboard.access")


class AccessLog:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        interval: float = 1.0,
        high_water: int = 500,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._interval = interval
        self._high_water = high_water
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(
        self,
        *,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        client_host: str | None,
        at: datetime | None = None,
    ) -> None:
        entry = {
            "at": at or self._clock.now(),
            "method": method[:8],
            "route": route[:200],
            "status": status,
            "duration_ms": round(duration_ms),
            "client": client_network(client_host),
        }
        with self._lock:
            self._pending.append(entry)
            full = len(self._pending) >= self._high_water
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write what is buffered; returns how many entries were written."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            with self._sessions.begin() as session:
                session.execute(insert(AccessLogEntry), batch)
        except Exception:  # an access log must never take a request down with it
            log.exception("access log entries could not be written", extra={"lost": len(batch)})
            return 0
        return len(batch)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()
