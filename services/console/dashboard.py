"""Call volume, answered and abandoned calls and handle time, for the supervisors' dashboard.

The numbers come from the reports service (``services.reports``, the same as
``GET /api/reports/calls``); the charts are drawn as inline SVG on the server, with no
script and no chart library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_DAYS = 92
# Axis labels are drawn at this size in the SVG's own units; the chart is never drawn
# narrower than its viewBox by more than a few percent at 768 px (one chart a row), so
# they stay at least 12 px on screen.
TICK_SIZE = 14
# Roughly how wide a tick's character is, in the SVG's units, to leave room on the left.
TICK_CHARACTER = 8.5


def duration(seconds: float | None) -> str:
    """A duration as people read it: "45 s", "2 min 05 s", "1 h 02 min"; a dash for none."""
    if seconds is None:
        return "\u2013"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def count(value: float) -> str:
    return f"{value:g}"


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
    left: float = 40.0
    maximum_label: str = ""


def bar_chart(
    title: str,
    keys: list[str],
    series: list[tuple[str, str, list[float]]],
    *,
    shown: Callable[[float], str] = count,
    tick: Callable[[str], str] = str,
    width: int = 720,
    height: int = 240,
) -> Chart:
    """Grouped bars: one group per key, one bar per series, scaled to the largest value;
    ``shown`` writes a value as people read it (a count, or a duration), ``tick`` a key
    under its group (a day as its month and day)."""
    maximum = max([value for _, _, values in series for value in values] + [1.0])
    maximum_label = shown(maximum)
    plot_top, plot_bottom = 12.0, height - 34.0
    left = max(40.0, round(len(maximum_label) * TICK_CHARACTER + 10))
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
                    value=shown(value),
                )
            )
        laid_out.append((name, css, bars))
    # As many labels as fit at the tick size without touching.
    widest = max((len(tick(key)) for key in keys), default=1) * TICK_CHARACTER + 12
    step = max(1, -(-int(widest) // max(int(group), 1)), len(keys) // 12)
    axis = [
        (round(left + position * group + group / 2, 1), tick(key))
        for position, key in enumerate(keys)
        if position % step == 0
    ]
    return Chart(title, laid_out, width, height, maximum, axis, left, maximum_label)
