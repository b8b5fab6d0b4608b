"""Dialect-aware INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL.

Statements are built once per table and executed with plain parameter dictionaries:
SQLAlchemy then reuses its compiled form, which matters on the webhook path.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Executable, Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


@functools.cache
def _insert_ignoring(dialect: str, table: Table, conflict_columns: tuple[str, ...]) -> Executable:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement: Executable = (
        module.insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        # RETURNING, not rowcount: drivers disagree on rowcount for a skipped insert.
        .returning(literal_column("1"))
    )
    return statement


def insert_ignoring_conflicts(
    target: Session | Connection,
    model: type[Any] | Table,
    values: dict[str, Any],
    *,
    conflict_columns: Sequence[str],
) -> bool:
    """Insert one row unless one with the same ``conflict_columns`` exists; True if inserted."""
    connection = target.connection() if isinstance(target, Session) else target
    table: Table = model if isinstance(model, Table) else model.__table__
    statement = _insert_ignoring(connection.dialect.name, table, tuple(conflict_columns))
    return connection.execute(statement, values).first() is not None


@functools.cache
def _insert_many_ignoring(
    dialect: str, table: Table, conflict_columns: tuple[str, ...], returning: tuple[str, ...]
) -> Executable:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
    result: Executable = statement
    return result


def insert_many_ignoring_conflicts(
    connection: Connection,
    model: type[Any] | Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict_columns: Sequence[str],
    returning: Sequence[str] = (),
) -> set[tuple[Any, ...]]:
    """Insert ``rows`` in one statement, skipping any that conflict (with a stored row or
    an earlier one of ``rows``).

    With ``returning`` columns, gives their values for the rows actually inserted.
    """
    if not rows:
        return set()
    table: Table = model if isinstance(model, Table) else model.__table__
    statement = _insert_many_ignoring(
        connection.dialect.name, table, tuple(conflict_columns), tuple(returning)
    )
    result = connection.execute(statement, list(rows))
    return {tuple(row) for row in result} if returning else set()
