"""Background jobs that tell callers of changes to their requests."""

from __future__ import annotations

from typing import Any

from services.platform.context import AppContext
from services.updates.actions import tell_due


def tell(context: AppContext, _payload: dict[str, Any]) -> None:
    """Queue the messages due now (after a change, and every minute for those that
    waited for their hour or for a lost job)."""
    tell_due(context)
