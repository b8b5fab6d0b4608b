"""Business hours such as ``"mon-fri 08:00-18:00; sat 09:00-13:00"`` in the city's time zone.

``24:00`` closes at midnight, so ``"mon-sun 00:00-24:00"`` never closes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLAUSE = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<open>\d{2}:\d{2})-(?P<close>\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class BusinessHours:
    windows: tuple[tuple[tuple[time, time], ...], ...]  # one tuple of windows per weekday

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        """Read the setting; raises ValueError naming the clause that is wrong."""
        days: list[list[tuple[time, time]]] = [[] for _ in DAYS]
        for clause in filter(None, (part.strip().lower() for part in text.split(";"))):
            match = _CLAUSE.match(clause)
            if match is None:
                raise ValueError(
                    f"business hours clause {clause!r} is not like 'mon-fri 08:00-18:00'"
                )
            first, last = match["first"], match["last"] or match["first"]
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"unknown day in business hours clause {clause!r}")
            opens = time.fromisoformat(match["open"])
            closes = time.max if match["close"] == "24:00" else time.fromisoformat(match["close"])
            if closes <= opens:
                raise ValueError(f"business hours clause {clause!r} closes before it opens")
            for day in range(DAYS.index(first), DAYS.index(last) + 1):
                days[day].append((opens, closes))
        return cls(tuple(tuple(windows) for windows in days))

    def is_open(self, instant: datetime, tz: ZoneInfo) -> bool:
        local = instant.astimezone(tz)
        now = local.time()
        return any(opens <= now < closes for opens, closes in self.windows[local.weekday()])


@functools.cache
def business_hours(text: str) -> BusinessHours:
    """The parsed setting, read once per distinct value."""
    return BusinessHours.parse(text)
