"""Call volume, answered and abandoned calls and handle time, for the supervisors' dashboard.

The numbers come from the reports service (``services.reports``, the same as
``GET /api/reports/calls``); the charts are drawn as inline SVG on the server, with no
script and no chart library.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DAYS = 92


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
