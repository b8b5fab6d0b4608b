"""What the application shell wires once and hands to routes and commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.messaging.carrier import SmsGateway
from services.platform.accesslog import AccessLog
from services.platform.clock import Clock
from services.platform.observability import Metrics
from services.platform.queue import Jobs
from services.platform.settings import Settings
from services.recordings.source import RecordingSource
from storage.blobs import BlobStore
from storage.crypto import Keyring
from storage.group_commit import GroupCommitter


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    keyring: Keyring
    clock: Clock
    # Webhook writes: acknowledged after commit, committed together (see group_commit).
    ingest: GroupCommitter
    jobs: Jobs
    blobs: BlobStore
    sms: SmsGateway
    # Twilio's REST side for recordings; None without Twilio credentials.
    recordings: RecordingSource | None = None
    metrics: Metrics = field(default_factory=Metrics)
    # The app's own minimal access log; None when turned off.
    access_log: AccessLog | None = None

    @property
    def city_tz(self) -> ZoneInfo:
        return self.settings.city_tz


async def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the application's context."""
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]
