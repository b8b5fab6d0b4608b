"""Pieces of queries the features share."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select

T = TypeVar("T")


def in_period(
    statement: Select[T], column: Any, since: datetime | None, until: datetime | None
) -> Select[T]:
    """``statement`` narrowed to rows whose ``column`` is at or after ``since`` and before
    ``until``; a bound that is None does not narrow."""
    if since is not None:
        statement = statement.where(column >= since)
    if until is not None:
        statement = statement.where(column < until)
    return statement
