"""Shared request parameter types with the bounds the databases can hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ROW_ID = 2**31 - 1
MAX_SEQ = 2**62

# A row's numeric id in a URL; larger numbers are refused before they reach the database.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
