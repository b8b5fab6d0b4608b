"""Business days: weekends and holidays excluded.

US federal holidays are computed by rule (with the Friday/Monday observance of those
that fall on a weekend); a city adds its own dates in settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from services.platform.errors import InvalidField


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def us_federal_holidays(year: int) -> frozenset[date]:
    mon, thu = 0, 3
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4)]
    fixed += [date(year, 11, 11), date(year, 12, 25)]
    days = {_observed(day) for day in fixed}
    days |= {
        _nth_weekday(year, 1, mon, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, mon, 3),  # Washington's Birthday
        _last_weekday(year, 5, mon),  # Memorial Day
        _nth_weekday(year, 9, mon, 1),  # Labor Day
        _nth_weekday(year, 10, mon, 2),  # Columbus Day
        _nth_weekday(year, 11, thu, 4),  # Thanksgiving Day
    }
    # New Year's Day on a Saturday is observed on the Friday before, in the old year.
    if date(year + 1, 1, 1).weekday() == 5:
        days.add(date(year, 12, 31))
    return frozenset(days)


@dataclass(frozen=True)
class BusinessCalendar:
    federal: bool = True
    extra: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, federal: bool, holidays: str) -> BusinessCalendar:
        extra = set()
        for part in (p.strip() for p in holidays.split(",")):
            if not part:
                continue
            try:
                extra.add(date.fromisoformat(part))
            except ValueError:
                raise InvalidField("holidays", f"{part!r} is not an ISO date") from None
        return cls(federal, frozenset(extra))

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.extra:
            return False
        return not (self.federal and day in us_federal_holidays(day.year))

    def add_business_days(self, start: date, days: int) -> date:
        """The business day ``days`` business days after ``start`` (a request received on
        a Friday, 5 business days: the next Friday; received on a Saturday: counting
        starts on Monday)."""
        current = start
        left = days
        while left > 0:
            current += timedelta(days=1)
            if self.is_business_day(current):
                left -= 1
        return current

    def business_days_between(self, start: date, end: date) -> int:
        """Business days after ``start`` up to and including ``end`` (negative if before)."""
        if end < start:
            return -self.business_days_between(end, start)
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_business_day(current)
        return count
