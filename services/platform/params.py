"""Shared parameter types: Twilio's identifiers, row ids with the bounds the databases
can hold, and instants that must carry their offset. Each is defined once here and used
by routes, schemas and webhooks alike."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

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


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset, e.g. 2026-11-22T09:00:00-05:00")
    return value


# An instant a client sends: without an offset it could be any of the city's or UTC's
# readings of the clock, so it is refused (naming the form wanted) rather than guessed.
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
