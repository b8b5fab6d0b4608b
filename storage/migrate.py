"""Alembic, driven from code: no alembic.ini to keep in step with the settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Full-text indexes are made by hand in their migrations (an FTS5 table and its shadow
# tables on SQLite, a generated tsvector column and its index on PostgreSQL); no model
# describes them, and their names say so.
OUTSIDE_MODELS_PREFIX = "fts_"


def outside_models(name: str | None, type_: str, _parent_names: object = None) -> bool:
    """Alembic's ``include_name``: False for the objects no model describes."""
    return not (
        type_ in ("table", "column", "index") and (name or "").startswith(OUTSIDE_MODELS_PREFIX)
    )


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read '%' in a password as a directive.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply every migration up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
