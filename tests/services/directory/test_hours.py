"""Business hours decide between the menu and voicemail."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.directory.hours import BusinessHours

NEW_YORK = ZoneInfo("America/New_York")


def test_open_and_closed_in_the_city_time_zone() -> None:
    hours = BusinessHours.parse("mon-fri 08:00-18:00; sat 09:00-13:00")
    wednesday_10am = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
    wednesday_7pm = datetime(2026, 11, 19, 0, 0, tzinfo=UTC)
    saturday_noon = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    sunday_noon = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
    assert hours.is_open(wednesday_10am, NEW_YORK)
    assert not hours.is_open(wednesday_7pm, NEW_YORK)
    assert hours.is_open(saturday_noon, NEW_YORK)
    assert not hours.is_open(sunday_noon, NEW_YORK)


@pytest.mark.parametrize("text", ["weekdays 8-6", "mon-fri 18:00-08:00", "mon-fry 08:00-18:00"])
def test_a_bad_setting_is_refused_with_the_clause(text: str) -> None:
    with pytest.raises(ValueError, match="clause"):
        BusinessHours.parse(text)


def test_a_line_that_never_closes() -> None:
    hours = BusinessHours.parse("mon-sun 00:00-24:00")
    assert hours.is_open(datetime(2026, 11, 22, 4, 59, 59, tzinfo=UTC), NEW_YORK)  # 23:59:59
    assert hours.is_open(datetime(2026, 11, 22, 5, 0, tzinfo=UTC), NEW_YORK)  # midnight
