"""The supervisors' wallboard: the contact centre right now and so far today, per
department (menu key). Counts and times only, never a caller.

- waiting: callers' legs in a department that have not ended and that no call taker has
  answered, and the longest of those waits (from the call's start);
- agents by state: staff who take calls (agents and supervisors with a department or an
  extension), by presence, wrap-up past its limit counting as available, counted and
  named (staff usernames are not callers' data: the supervisors who see the board
  already read each agent's handle time in the agents' report);
- service level: of today's calls in the department that were answered or abandoned,
  the share a call taker answered within the threshold (30 seconds);
- abandoned today: callers' legs that ended with no call taker's leg answered.

A call is the caller's leg (no parent); the call taker's is the dialled leg under it, as
in the reports (services.reports.service).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from services.calls.models import Call
from services.calls.progress import TERMINAL_STATUSES
from services.platform.roles import Role
from services.reports.service import local_midnight
from services.staff.models import StaffUser
from services.staff.service import PresencePolicy, effective_presence

SERVICE_LEVEL_SECONDS = 30
# A call not ended after this long is taken to have lost its end event, not to be waiting.
WAITING_WINDOW = timedelta(hours=2)
STATES = ("available", "busy", "wrap_up", "away")
TAKING_CALLS = (Role.AGENT.value, Role.SUPERVISOR.value)
NO_DEPARTMENT = ""

TAKER = aliased(Call, name="taker")


@dataclass
class DepartmentBoard:
    department: str
    waiting: int = 0
    longest_wait_seconds: int | None = None
    agents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    staff: dict[str, list[str]] = field(default_factory=lambda: {state: [] for state in STATES})
    calls_today: int = 0
    answered_today: int = 0
    answered_in_time: int = 0
    abandoned_today: int = 0

    @property
    def service_level(self) -> float | None:
        """Answered within the threshold, of the calls answered or abandoned today."""
        offered = self.answered_today + self.abandoned_today
        return round(100 * self.answered_in_time / offered, 1) if offered else None


@dataclass
class Wallboard:
    at: datetime
    threshold_seconds: int
    departments: list[DepartmentBoard]
    total: DepartmentBoard


def _board(boards: dict[str, DepartmentBoard], department: str | None) -> DepartmentBoard:
    key = department or NO_DEPARTMENT
    if key not in boards:
        boards[key] = DepartmentBoard(key)
    return boards[key]


def wallboard(
    session: Session,
    *,
    now: datetime,
    tz: ZoneInfo,
    presence: PresencePolicy,
    departments: list[str],
    threshold_seconds: int = SERVICE_LEVEL_SECONDS,
) -> Wallboard:
    """The board as of ``now``: one entry per department in ``departments`` (the menu's
    keys, in its order), then any other department seen today."""
    boards: dict[str, DepartmentBoard] = {key: DepartmentBoard(key) for key in departments}
    today = local_midnight(now.astimezone(tz).date(), tz)

    answered_taker = and_(TAKER.parent_call_sid == Call.call_sid, TAKER.answered_at.is_not(None))
    callers = select(Call.extension, Call.started_at, Call.ended_at, Call.status).where(
        Call.parent_call_sid.is_(None),
        Call.extension.is_not(None),
        Call.started_at >= min(today, now - WAITING_WINDOW),
    )
    first_answer = (
        select(func.min(TAKER.answered_at)).where(answered_taker).correlate(Call).scalar_subquery()
    )
    for extension, started, ended, status, answered in session.execute(
        callers.add_columns(first_answer.label("answered"))
    ):
        board = _board(boards, extension)
        if answered is None and ended is None and status not in TERMINAL_STATUSES:
            if started >= now - WAITING_WINDOW:
                wait = max(0, int((now - _aware(started)).total_seconds()))
                board.waiting += 1
                board.longest_wait_seconds = max(board.longest_wait_seconds or 0, wait)
            continue
        if _aware(started) < today:
            continue
        board.calls_today += 1
        if answered is not None:
            board.answered_today += 1
            if (_aware(answered) - _aware(started)).total_seconds() <= threshold_seconds:
                board.answered_in_time += 1
        elif status in TERMINAL_STATUSES:
            board.abandoned_today += 1

    people = session.scalars(
        select(StaffUser)
        .where(
            StaffUser.role.in_(TAKING_CALLS),
            StaffUser.disabled_at.is_(None),
            (StaffUser.department.is_not(None)) | (StaffUser.extension.is_not(None)),
        )
        .order_by(StaffUser.username)
    )
    for person in people:
        state, _ = effective_presence(person, now=now, policy=presence)
        board = _board(boards, person.department or person.extension)
        shown = state if state in STATES else "away"
        board.agents[shown] += 1
        board.staff[shown].append(person.username)

    return Wallboard(now, threshold_seconds, list(boards.values()), _total(boards.values()))


def _total(boards: Iterable[DepartmentBoard]) -> DepartmentBoard:
    """All departments together: the sums, the longest wait, everyone by name."""
    total = DepartmentBoard("all")
    for board in boards:
        total.waiting += board.waiting
        if board.longest_wait_seconds is not None:
            total.longest_wait_seconds = max(
                total.longest_wait_seconds or 0, board.longest_wait_seconds
            )
        for state, count in board.agents.items():
            total.agents[state] += count
        for state, names in board.staff.items():
            total.staff[state].extend(names)
        total.calls_today += board.calls_today
        total.answered_today += board.answered_today
        total.answered_in_time += board.answered_in_time
        total.abandoned_today += board.abandoned_today
    for names in total.staff.values():
        names.sort()
    return total


def _aware(instant: datetime) -> datetime:
    """An instant as an aware UTC value, whatever the driver handed back."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
