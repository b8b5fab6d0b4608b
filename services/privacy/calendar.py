"""Business days: weekends and holidays excluded.

The public holidays come from the ``holidays`` package: the US federal days with the
Friday/Monday observance of those that fall on a weekend, and, when the city names its
state, that state's own days (Delaware's Good Friday and Election Day, for example). A
city adds its own dates in settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from services.platform.errors import InvalidField


@lru_cache(maxsize=128)
def public_holidays(year: int, state: str | None = None) -> frozenset[date]:
    """The US public holidays of ``year`` as observed, with ``state``'s own if given."""
    # The next year too: its New Year's Day may be observed on 31 December of this one.
    days = holidays.country_holidays("US", subdiv=state, years=(year, year + 1), observed=True)
    return frozenset(day for day in days if day.year == year)


def us_federal_holidays(year: int) -> frozenset[date]:
    return public_holidays(year)


def check_state(state: str) -> str:
    """A US state or territory code the holiday calendar knows; ValueError otherwise."""
    code = state.strip().upper()
    if code not in holidays.list_supported_countries()["US"]:
        raise ValueError(f"{state!r} is not a US state or territory code, e.g. DE or NY")
    return code


@dataclass(frozen=True)
class BusinessCalendar:
    federal: bool = True
    extra: frozenset[date] = frozenset()
    state: str | None = None

    @classmethod
    def from_settings(
        cls, federal: bool, extra_days: str, state: str | None = None
    ) -> BusinessCalendar:
        extra = set()
        for part in (p.strip() for p in extra_days.split(",")):
            if not part:
                continue
            try:
                extra.add(date.fromisoformat(part))
            except ValueError:
                raise InvalidField("holidays", f"{part!r} is not an ISO date") from None
        return cls(federal, frozenset(extra), check_state(state) if state else None)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.extra:
            return False
        return not (self.federal and day in public_holidays(day.year, self.state))

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
