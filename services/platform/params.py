"""Shared parameter types: Twilio's identifiers, and row ids with the bounds the databases
can hold. Each is defined once here and used by routes, schemas and webhooks alike."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path

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
