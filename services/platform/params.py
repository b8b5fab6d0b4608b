"""Shared parameter types: Twilio's identifiers, row ids with the bounds the databases
can hold, and dates and instants within the years a city record can fall in (instants
must carry their offset). Each is defined once here and used by routes, schemas and
webhooks alike."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, TypeVar

from fastapi import Path, Query
from pydantic import AfterValidator

DateOrTime = TypeVar("DateOrTime", date, datetime)
MAX_ROW_ID = 2**31 - 1
MAX_SEQ = 2**62

CALL_SID_PATTERN = r"^CA[0-9a-fA-F]{32}$"
RECORDING_SID_PATTERN = r"^RE[0-9a-fA-F]{32}$"
ACCOUNT_SID_PATTERN = r"^AC[0-9a-fA-F]{32}$"
CALL_SID = re.compile(CALL_SID_PATTERN)
RECORDING_SID = re.compile(RECORDING_SID_PATTERN)
ACCOUNT_SID = re.compile(ACCOUNT_SID_PATTERN)

# A row's numeric id in a URL; larger numbers are refused before they reach the database.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# Twilio's call and recording identifiers in a URL.
CallSid = Annotated[str, Path(pattern=CALL_SID_PATTERN)]
RecordingSid = Annotated[str, Path(pattern=RECORDING_SID_PATTERN)]
# Paging a staff list newest first: how many rows a page holds at most, and the id the
# previous page ended at.
PageLimit = Annotated[int, Query(ge=1, le=200)]
BeforeId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]


# The years a date or instant from outside may name. Python's own range (years 1 to
# 9999) overflows as soon as an offset is applied or a period added at either end, and a
# city record before 1900 or after 2999 is a typo; so both are refused at the boundary
# with a 4xx instead of failing deep inside with a 500.
FIRST_YEAR = 1900
LAST_YEAR = 2999
RANGE_MESSAGE = f"must fall between the years {FIRST_YEAR} and {LAST_YEAR}"


def within_range(value: DateOrTime) -> DateOrTime:
    """``value`` when its year is one a city record can fall in; ValueError otherwise.
    The year is read as written, before any offset is applied, so this cannot overflow."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(RANGE_MESSAGE)
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset, e.g. 2026-11-22T09:00:00-05:00")
    return value


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset ("Z" for UTC) within the city's years, for
    parameters read by hand; ValueError naming what is wrong."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date and time") from exc
    return within_range(_aware(parsed))


# An instant a client sends: without an offset it could be any of the city's or UTC's
# readings of the clock, so it is refused (naming the form wanted) rather than guessed.
AwareDatetime = Annotated[datetime, AfterValidator(_aware), AfterValidator(within_range)]
# A time of day in the city that may carry an offset (the city's zone when it does not).
CityDatetime = Annotated[datetime, AfterValidator(within_range)]
# A date of the city's calendar.
CityDate = Annotated[date, AfterValidator(within_range)]


# C0 control characters but tab, line feed and carriage return, and DEL. PostgreSQL cannot
# store NUL in a text column at all (the insert fails); none belongs in typed text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("holds a control character (such as NUL); remove it")
    return value


# Text a person typed: refused, naming the field, if it holds control characters.
PlainText = Annotated[str, AfterValidator(_plain)]
