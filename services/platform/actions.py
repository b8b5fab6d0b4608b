"""The unit of work of one use case: its transaction and its audit entry, together.

Every action a person can take on personal data (file a request, read a call, change a
status, play a recording, ...) runs inside ``unit_of_work``. The work and its audit
entry commit together. When the work ends in a refusal the person can see (not found,
forbidden, invalid input, a conflict), the work is rolled back and the entry is still
written, in a transaction of its own, with that outcome: a miss or a refusal on personal
data is never lost from the trail. The API, the console and the command line all call
the same actions, so each use case is audited in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.platform import audit
from services.platform.context import AppContext
from services.platform.errors import Problem

log = logging.getLogger("switchboard.actions")

# What a refusal is called in the trail, by its HTTP status.
OUTCOMES = {
    400: "invalid",
    401: "refused",
    403: "refused",
    404: "not_found",
    409: "conflict",
    413: "invalid",
    416: "invalid",
    422: "invalid",
    429: "refused",
}


@dataclass
class Work:
    """What an action holds while it runs: its session, its instant, and the audit
    entry it will leave (the action fills in the object and detail as it learns them)."""

    session: Session
    now: datetime
    actor: audit.Actor
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    outcome: str = "ok"

    def note(self, **detail: Any) -> None:
        """Add ids, counts or keyed hashes to the audit entry (never personal data)."""
        self.detail.update(detail)


def _write(session: Session, work: Work, *, outcome: str, extra: dict[str, Any]) -> None:
    audit.record(
        session,
        actor=work.actor,
        action=work.action,
        at=work.now,
        outcome=outcome,
        object_type=work.object_type,
        object_id=work.object_id,
        detail={**work.detail, **extra},
    )


@contextmanager
def unit_of_work(
    context: AppContext,
    actor: audit.Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
) -> Iterator[Work]:
    """Run one use case: a transaction whose audit entry commits with it, and an entry
    with the refusal's outcome when it ends in a ``Problem`` (raised again after)."""
    work: Work | None = None
    try:
        with context.db.begin() as session:
            work = Work(
                session=session,
                now=context.clock.now(),
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
            )
            yield work
            _write(session, work, outcome=work.outcome, extra={})
    except Problem as problem:
        if work is not None:
            outcome = OUTCOMES.get(problem.status, "failed")
            with context.db.begin() as session:
                _write(session, work, outcome=outcome, extra={"status": problem.status})
        raise
    except Exception as error:
        if work is not None:
            _audit_failure(context, work, error)
        raise


def _audit_failure(context: AppContext, work: Work, error: Exception) -> None:
    """An unexpected failure is audited too, if the database still answers."""
    try:
        with context.db.begin() as session:
            _write(session, work, outcome="error", extra={"error": type(error).__name__})
    except Exception:
        log.exception("could not audit a failed action", extra={"action": work.action})
