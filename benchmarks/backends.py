"""The databases a benchmark measures: a fresh application on SQLite, PostgreSQL or both.

Each backend is set up the same way: the schema migrated to the newest revision, a new
random master key, the application's context built from settings of its own and
bootstrapped, as ``switchboard serve`` would on a new install.
"""

from __future__ import annotations

import argparse
import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.scratch import Scratch
from services.app.factory import bootstrap, build_context
from services.platform.context import AppContext
from services.platform.settings import Settings
from storage import migrate


def add_backend_option(parser: argparse.ArgumentParser) -> None:
    """``--backend sqlite|postgresql|both`` (both by default)."""
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")


def each_backend(
    space: Scratch, choice: str, db_file: str, label: str
) -> Iterator[tuple[str, str]]:
    """(name, database URL) of each backend ``choice`` names, one after the other: SQLite in
    ``db_file`` of the scratch folder, then PostgreSQL in a schema of its own labelled
    ``label`` (left out when no PostgreSQL server answers)."""
    if choice in ("sqlite", "both"):
        yield "sqlite", f"sqlite:///{space.dir / db_file}"
    if choice in ("postgresql", "both"):
        url = space.postgres_schema(label)
        if url is not None:
            yield "postgresql", url


def fresh_context(
    url: str, data_dir: Path, *, master_key: str | None = None, **settings: Any
) -> AppContext:
    """The application over the database at ``url``, newly migrated, with ``master_key``
    (a new random one by default) and its files under ``data_dir``; ``settings`` set the
    rest."""
    migrate.upgrade(url)
    context = build_context(
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            data_dir=data_dir,
            master_key=master_key or base64.b64encode(os.urandom(32)).decode(),
            **settings,
        )
    )
    bootstrap(context)
    return context
