"""Database backups and restores: SQLite's online backup, PostgreSQL's pg_dump/pg_restore.

A backup holds what the database holds: sealed values, blind indexes and wrapped keys,
never the master key, which stays in the secrets store. It opens only with the master
key in force when it was taken (see deploy/README.md, "Rotating the master key").

PostgreSQL dumps use pg_dump's custom format (compressed, restorable table by table);
the connection is passed to pg_dump and pg_restore in libpq's environment variables, so
no password appears on a command line. A URL whose ``options`` set a ``search_path``
(one schema per application) is dumped and restored as that schema only.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from storage.db import make_engine


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why (never a password)."""


def backup_database(url: str, destination: Path) -> None:
    """Write a consistent copy of the database at ``url`` to ``destination`` (a new file)."""
    parsed = make_url(url)
    if destination.exists():
        raise BackupError(f"{destination} exists already; backups never overwrite")
    destination.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        source = _sqlite_path(parsed)
        with sqlite3.connect(source) as live, sqlite3.connect(destination) as copy:
            live.backup(copy)  # a consistent snapshot, while writers carry on
        destination.chmod(0o600)
        return
    _run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file",
         str(destination), *_schema_args(parsed)],
        parsed,
    )  # fmt: skip
    destination.chmod(0o600)


def restore_database(url: str, source: Path) -> None:
    """Restore the backup ``source`` into the empty database at ``url``."""
    parsed = make_url(url)
    if not source.is_file():
        raise BackupError(f"{source} is not a backup file")
    if _has_tables(url):
        raise BackupError("the target database is not empty; restore into a new database")
    if parsed.get_backend_name() == "sqlite":
        target = _sqlite_path(parsed)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as backup, sqlite3.connect(target) as restored:
            backup.backup(restored)
        return
    _run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", "--dbname", parsed.database or "", str(source)],
        parsed,
    )  # fmt: skip


def _has_tables(url: str) -> bool:
    engine = make_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            return bool(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(url.database)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    return found


def _schema_args(url: URL) -> list[str]:
    schema = _search_path(url)
    return [f"--schema={schema}"] if schema else []


def _search_path(url: URL) -> str | None:
    options = url.query.get("options")
    text = options if isinstance(options, str) else " ".join(options or ())
    for part in text.split():
        if part.startswith("-csearch_path="):
            return part.removeprefix("-csearch_path=").split(",")[0].strip('"')
    return None


def _libpq_environment(url: URL) -> dict[str, str]:
    environment = dict(os.environ)
    for variable, value in {
        "PGHOST": url.host,
        "PGPORT": None if url.port is None else str(url.port),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": url.query.get("sslmode"),
    }.items():
        if isinstance(value, str) and value:
            environment[variable] = value
    return environment


def _run(command: list[str], url: URL) -> None:
    done = subprocess.run(  # noqa: S603 - fixed tools, arguments we built
        command, env=_libpq_environment(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BackupError(f"{Path(command[0]).name} failed: {last[0][:300]}")
