"""Retention's background job: the nightly purge."""

from __future__ import annotations

from typing import Any

from services.platform import audit
from services.platform.context import AppContext
from services.retention.actions import run_retention


def retention_job(context: AppContext, _payload: dict[str, Any]) -> None:
    """The nightly purge, as the system."""
    run_retention(context, audit.SYSTEM)
