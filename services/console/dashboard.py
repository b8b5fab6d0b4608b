"""Call volume, answered and abandoned calls and handle time, for the supervisors' dashboard.

The same numbers as ``GET /api/reports/calls`` (rows keyed by hour, day or extension),
computed here until the reports API lands; the charts are drawn as inline SVG on the
server, with no script and no chart library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.calls.progress import TERMINAL_STATUSES, answered_time
from storage.models import Call

Grouping = Literal["hour", "day", "extension"]
MAX_DAYS = 92


@dataclass
class CallRow:
    key: str
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    handle_seconds: int = 0

    @property
    def avg_handle_seconds(self) -> float | None:
        return round(self.handle_seconds / self.answered, 1) if self.answered else None


def call_rows(
    session: Session, *, start: date, end: date, by: Grouping, tz: ZoneInfo
) -> list[CallRow]:
    """Callers' calls started from ``start`` to ``end`` inclusive, city time, grouped.

    Answered: a leg dialled for the call (to a department) was picked up; handle time is
    how long those legs lasted. Abandoned: the call ended with nobody having picked up.
    The IVR answering the caller is neither.
    """
    since = datetime.combine(start, time(), tz)
    until = datetime.combine(end + timedelta(days=1), time(), tz)
    rows: dict[str, CallRow] = {}
    if by == "hour":
        rows = {f"{hour:02d}": CallRow(f"{hour:02d}") for hour in range(24)}
    elif by == "day":
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        rows = {day.isoformat(): CallRow(day.isoformat()) for day in days}
    callers = session.execute(
        select(Call.call_sid, Call.started_at, Call.status, Call.extension).where(
            Call.parent_call_sid.is_(None), Call.started_at >= since, Call.started_at < until
        )
    ).all()
    handled: dict[str, int] = {}
    # Dialled legs start after their caller's call: look a little past the range's end.
    legs = select(
        Call.parent_call_sid, Call.answered_at, Call.ended_at, Call.status, Call.duration_seconds
    ).where(
        Call.parent_call_sid.is_not(None),
        Call.started_at >= since,
        Call.started_at < until + timedelta(hours=6),
    )
    for parent, answered_at, ended, status, duration in session.execute(legs):
        if parent and answered_time(answered_at, ended, status, duration) is not None:
            handled[parent] = handled.get(parent, 0) + (duration or 0)
    for call_sid, started, status, extension in callers:
        local = started.astimezone(tz)
        if by == "hour":
            key = f"{local.hour:02d}"
        elif by == "day":
            key = local.date().isoformat()
        else:
            key = extension or "none"
        row = rows.setdefault(key, CallRow(key))
        row.calls += 1
        if call_sid in handled:
            row.answered += 1
            row.handle_seconds += handled[call_sid]
        elif status in TERMINAL_STATUSES:
            row.abandoned += 1
    ordered = list(rows.values())
    if by == "extension":
        ordered.sort(key=lambda row: row.key)
    return ordered


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    """One bar chart, laid out for an SVG ``viewBox`` of ``width`` by ``height``."""

    title: str
    series: list[tuple[str, str, list[Bar]]]  # (name, css class, bars)
    width: int
    height: int
    maximum: float
    axis_labels: list[tuple[float, str]]


def bar_chart(
    title: str,
    keys: list[str],
    series: list[tuple[str, str, list[float]]],
    *,
    unit: str = "",
    width: int = 720,
    height: int = 220,
) -> Chart:
    """Grouped bars: one group per key, one bar per series, scaled to the largest value."""
    plot_top, plot_bottom, left = 10.0, height - 30.0, 40.0
    maximum = max([value for _, _, values in series for value in values] + [1.0])
    group = (width - left) / max(1, len(keys))
    bar_width = max(1.0, group * 0.8 / max(1, len(series)))
    laid_out = []
    for index, (name, css, values) in enumerate(series):
        bars = []
        for position, (key, value) in enumerate(zip(keys, values, strict=True)):
            bar_height = (plot_bottom - plot_top) * value / maximum
            bars.append(
                Bar(
                    x=round(left + position * group + group * 0.1 + index * bar_width, 1),
                    y=round(plot_bottom - bar_height, 1),
                    width=round(bar_width, 1),
                    height=round(bar_height, 1),
                    label=key,
                    value=f"{value:g}{unit}",
                )
            )
        laid_out.append((name, css, bars))
    step = max(1, len(keys) // 12)
    axis = [
        (round(left + position * group + group / 2, 1), key)
        for position, key in enumerate(keys)
        if position % step == 0
    ]
    return Chart(title, laid_out, width, height, maximum, axis)
