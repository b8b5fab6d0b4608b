"""Retention schedules: one per class of records, stored so administrators can change
them. The classes and their defaults come from the features' entries in the
personal-data registry (docs/privacy.md gives the reasons).

The app's own access log and the raw webhook log are internet service logs: the policy
keeps them one calendar month and then destroys them, so they can be shortened but not
lengthened.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.platform.errors import InvalidField
from services.platform.personal_data import RecordClass
from services.retention.models import RetentionSchedule

UNITS = ("days", "months", "years")


@dataclass(frozen=True)
class Schedule:
    record_class: str
    amount: int
    unit: str

    def cutoff(self, as_of: datetime) -> datetime:
        """Records whose clock is before this instant are due for destruction."""
        return subtract(as_of, self.amount, self.unit)

    @property
    def text(self) -> str:
        unit = self.unit if self.amount != 1 else self.unit[:-1]
        return f"{self.amount} {unit}"


def subtract(instant: datetime, amount: int, unit: str) -> datetime:
    """``instant`` less ``amount`` days, calendar months or years (the day clamped to the
    month's length: one month before 31 March is 28 or 29 February)."""
    if unit == "days":
        return instant - timedelta(days=amount)
    months = amount * (12 if unit == "years" else 1)
    total = instant.year * 12 + (instant.month - 1) - months
    year, month = divmod(total, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def _in_days(amount: int, unit: str) -> float:
    return amount * {"days": 1.0, "months": 30.44, "years": 365.25}[unit]


def schedules(session: Session, classes: Mapping[str, RecordClass]) -> dict[str, Schedule]:
    """Every class's schedule: the stored one, or the default."""
    stored = {row.record_class: row for row in session.scalars(select(RetentionSchedule))}
    result: dict[str, Schedule] = {}
    for name, default in classes.items():
        row = stored.get(name)
        result[name] = (
            Schedule(name, row.amount, row.unit)
            if row is not None
            else Schedule(name, default.amount, default.unit)
        )
    return result


def set_schedule(
    session: Session,
    classes: Mapping[str, RecordClass],
    record_class: str,
    amount: int,
    unit: str,
    *,
    by: int | None,
    now: datetime,
) -> Schedule:
    """Change one class's period; refused beyond the policy's ceiling or below a day."""
    known = classes.get(record_class)
    if known is None:
        raise InvalidField("record_class", f"is not one of {', '.join(classes)}")
    if unit not in UNITS:
        raise InvalidField("unit", f"must be one of {', '.join(UNITS)}")
    if amount < 1 or _in_days(amount, unit) > 100 * 365.25:
        raise InvalidField("amount", "must be at least 1 and at most 100 years")
    if known.longest is not None and _in_days(amount, unit) > _in_days(*known.longest):
        ceiling = Schedule(record_class, *known.longest).text
        raise InvalidField("amount", f"the privacy policy keeps {known.label} at most {ceiling}")
    if record_class == "audit" and _in_days(amount, unit) < 62:
        raise InvalidField("amount", "the audit trail is kept at least two months")
    row = session.get(RetentionSchedule, record_class)
    if row is None:
        row = RetentionSchedule(record_class=record_class, amount=amount, unit=unit, updated_at=now)
        session.add(row)
    row.amount, row.unit, row.updated_at, row.updated_by_id = amount, unit, now, by
    session.flush()
    return Schedule(record_class, amount, unit)
