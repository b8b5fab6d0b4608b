"""How a call's record follows from its progress events, whatever order they arrive in.

Twilio sends each status change as its own request and promises no order; it may also
retry. The merge below is a join: every field is a maximum or minimum over the events
seen, so applying events in any order, any number of times, gives the same record as
replaying them in order. A terminal status outranks every other, so a call never leaves
its end state; among equals the higher SequenceNumber wins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

TERMINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
STATUS_RANK = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    **dict.fromkeys(TERMINAL_STATUSES, 4),
}
KNOWN_STATUSES = frozenset(STATUS_RANK)
NO_SEQUENCE = -1


def normalise_status(raw: str | None) -> str | None:
    """Twilio's CallStatus, or None for a value Twilio does not send."""
    status = (raw or "").strip().lower()
    if status == "answered":  # the statusCallbackEvent name for in-progress
        status = "in-progress"
    return status if status in KNOWN_STATUSES else None


@dataclass(frozen=True)
class ProgressEvent:
    status: str
    sequence: int
    occurred_at: datetime
    duration_seconds: int | None = None

    @property
    def rank(self) -> int:
        return STATUS_RANK[self.status]

    def order_key(self) -> tuple[int, int, str, datetime]:
        return (self.rank, self.sequence, self.status, self.occurred_at)


@dataclass(frozen=True)
class CallProgress:
    """The progress fields of a call record."""

    status: str
    status_rank: int
    status_sequence: int
    status_at: datetime
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None

    @classmethod
    def first(cls, event: ProgressEvent) -> CallProgress:
        # Start below every real event so that the first one always wins.
        empty = cls(
            status="",
            status_rank=-1,
            status_sequence=NO_SEQUENCE,
            status_at=event.occurred_at,
            started_at=event.occurred_at,
        )
        return empty.apply(event)

    def winner_key(self) -> tuple[int, int, str, datetime]:
        return (self.status_rank, self.status_sequence, self.status, self.status_at)

    def apply(self, event: ProgressEvent) -> CallProgress:
        """The record after also seeing ``event``; order-independent and idempotent."""
        merged = replace(self, started_at=min(self.started_at, event.occurred_at))
        answered = _answered_at(event)
        if answered is not None:
            merged = replace(
                merged,
                answered_at=answered
                if merged.answered_at is None
                else min(merged.answered_at, answered),
            )
        if event.order_key() > self.winner_key():
            terminal = event.status in TERMINAL_STATUSES
            merged = replace(
                merged,
                status=event.status,
                status_rank=event.rank,
                status_sequence=event.sequence,
                status_at=event.occurred_at,
                ended_at=event.occurred_at if terminal else None,
                duration_seconds=event.duration_seconds if terminal else None,
            )
        return merged


def _answered_at(event: ProgressEvent) -> datetime | None:
    return event.occurred_at if event.status == "in-progress" else None


def answered_time(
    answered_at: datetime | None, ended_at: datetime | None, status: str, duration: int | None
) -> datetime | None:
    """When the call was answered: as reported, or else from its end and duration.

    A leg whose only callback is "completed" (the parent call's, by default) still says
    how long it was connected.
    """
    if answered_at is not None:
        return answered_at
    if status == "completed" and ended_at is not None and duration:
        return ended_at - timedelta(seconds=duration)
    return None
