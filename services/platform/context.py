"""What the composition root builds once and hands to every action, route and job.

The context carries infrastructure (the database, keys, clock, queue, blobs, metrics)
and the city's few facts every feature needs (its name, time zone, region, public URL).
Each feature's own policies and ports (the duplicate window, quiet hours, the SMS
carrier, ...) are built from the settings once, at start-up, and looked up by their type
with ``context.part(Type)``; no feature reads the settings itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.platform.accesslog import AccessLog
from services.platform.clock import Clock
from services.platform.observability import Metrics
from services.platform.queue import Jobs
from storage.blobs import BlobStore
from storage.crypto import Keyring
from storage.group_commit import GroupCommitter

T = TypeVar("T")


@dataclass(frozen=True)
class City:
    """The city the line serves: what greetings, times and numbers are read in."""

    name: str
    tz: ZoneInfo
    region: str  # for numbers written without a country code
    public_url: str  # the base URL Twilio and people reach, without a trailing slash

    @property
    def https(self) -> bool:
        return self.public_url.startswith("https://")


class Parts:
    """Policies and ports, one object per type, provided once by the composition root."""

    def __init__(self) -> None:
        self._parts: dict[type, object] = {}

    def provide(self, part: object) -> None:
        kind = type(part)
        if kind in self._parts:
            raise ValueError(f"{kind.__name__} is provided twice")
        self._parts[kind] = part

    def replace(self, part: object) -> None:
        """Swap a part (tests that point a port elsewhere)."""
        self._parts[type(part)] = part

    def get(self, kind: type[T]) -> T:
        try:
            found = self._parts[kind]
        except KeyError:
            raise LookupError(f"no {kind.__name__} was provided at start-up") from None
        assert isinstance(found, kind)
        return found


@dataclass
class AppContext:
    engine: Engine
    db: sessionmaker[Session]
    keyring: Keyring
    clock: Clock
    city: City
    # Webhook writes: acknowledged after commit, committed together (see group_commit).
    ingest: GroupCommitter
    jobs: Jobs
    blobs: BlobStore
    parts: Parts = field(default_factory=Parts)
    metrics: Metrics = field(default_factory=Metrics)
    # The app's own minimal access log; None when turned off.
    access_log: AccessLog | None = None

    @property
    def city_tz(self) -> ZoneInfo:
        return self.city.tz

    @property
    def region(self) -> str:
        return self.city.region

    def part(self, kind: type[T]) -> T:
        """The policy or port of type ``kind`` built at start-up."""
        return self.parts.get(kind)


async def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the application's context."""
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def app_context(app: Any) -> AppContext:
    """The context of a built app (for code that holds the app, not a request)."""
    context: AppContext = app.state.context
    return context
