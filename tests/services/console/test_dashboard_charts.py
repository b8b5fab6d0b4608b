"""The dashboard's charts are readable: durations in minutes and seconds, axis labels
that do not run into each other."""

from __future__ import annotations

import itertools

from services.console import dashboard


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [dashboard.duration(s) for s in (None, 7, 59.6, 125, 3600, 3725)] == [
        "\u2013",
        "7 s",
        "1 min 00 s",
        "2 min 05 s",
        "1 h 00 min",
        "1 h 02 min",
    ]


def test_a_handle_time_chart_labels_its_axis_with_a_duration_and_room_for_it() -> None:
    chart = dashboard.bar_chart(
        "Average handle time",
        ["3", "4"],
        [("Handle time", "series-handle", [125.0, 48.0])],
        shown=dashboard.duration,
    )
    assert chart.maximum_label == "2 min 05 s"
    assert chart.left >= len("2 min 05 s") * dashboard.TICK_CHARACTER
    assert [bar.value for bar in chart.series[0][2]] == ["2 min 05 s", "48 s"]


def test_day_labels_are_thinned_so_they_never_touch() -> None:
    days = [f"2026-11-{day:02d}" for day in range(1, 31)]
    chart = dashboard.bar_chart(
        "Calls", days, [("Calls", "series-calls", [1.0] * 30)], tick=lambda key: key[-5:]
    )
    xs = [x for x, _ in chart.axis_labels]
    room = len("11-30") * dashboard.TICK_CHARACTER
    assert all(b - a >= room for a, b in itertools.pairwise(xs))
    assert chart.axis_labels[0][1] == "11-01"
