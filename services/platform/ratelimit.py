"""Rate limits for sign-in and public endpoints, by client network.

Fixed one-window counters in this process's memory: cheap, and enough to blunt a flood
against one web process. With several processes each keeps its own count, so the
effective limit is the setting times the number of processes; account lockout, which
stops password guessing, is kept in the database and shared by all of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import Request

from services.platform.errors import Problem
from services.platform.network import client_network

MAX_TRACKED_KEYS = 100_000


class RateLimiter:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def hit(self, name: str, key: str, *, limit: int, per_seconds: float) -> float | None:
        """Count one request; None when allowed, else the seconds until the window resets."""
        now = self._monotonic()
        with self._lock:
            if len(self._windows) > MAX_TRACKED_KEYS:
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < per_seconds}
            started, count = self._windows.get((name, key), (now, 0))
            if now - started >= per_seconds:
                started, count = now, 0
            count += 1
            self._windows[(name, key)] = (started, count)
            if count > limit:
                return per_seconds - (now - started)
            return None


def rate_limit(name: str, *, limit: int, per_seconds: float) -> Callable[[Request], None]:
    """A dependency that answers 429 with Retry-After once a client network goes over
    ``limit`` requests in ``per_seconds`` on this route."""

    def dependency(request: Request) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        network = client_network(request.client.host if request.client else None)
        wait = limiter.hit(name, network, limit=limit, per_seconds=per_seconds)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise Problem(
                429,
                "Too many requests",
                f"Too many requests from your network; try again in {seconds} seconds.",
                headers={"Retry-After": str(seconds)},
            )

    dependency.__name__ = f"rate_limit_{name.replace('-', '_')}"
    return dependency
