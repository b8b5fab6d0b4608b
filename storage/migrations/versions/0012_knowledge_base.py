"""knowledge base: articles, their texts and versions, full-text search, search words

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-30 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The full-text index lives outside the models (storage.migrate.outside_models): an FTS5
# table kept by triggers on SQLite; on PostgreSQL a stored generated tsvector column (so
# neither matching nor ranking parses a text again) with a GIN index.
FTS = "fts_kb_article_texts"
PG_VECTOR = (
    "ALTER TABLE kb_article_texts ADD COLUMN fts_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, search_head), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'D')) STORED"
)
SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE fts_kb_article_texts USING fts5(search_head, search_body, "
    "content='kb_article_texts', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER fts_kb_article_texts_ai AFTER INSERT ON kb_article_texts BEGIN "
    "INSERT INTO fts_kb_article_texts(rowid, search_head, search_body) "
    "VALUES (new.id, new.search_head, new.search_body); END",
    "CREATE TRIGGER fts_kb_article_texts_ad AFTER DELETE ON kb_article_texts BEGIN "
    "INSERT INTO fts_kb_article_texts(fts_kb_article_texts, rowid, search_head, search_body) "
    "VALUES ('delete', old.id, old.search_head, old.search_body); END",
    "CREATE TRIGGER fts_kb_article_texts_au AFTER UPDATE ON kb_article_texts BEGIN "
    "INSERT INTO fts_kb_article_texts(fts_kb_article_texts, rowid, search_head, search_body) "
    "VALUES ('delete', old.id, old.search_head, old.search_body); "
    "INSERT INTO fts_kb_article_texts(rowid, search_head, search_body) "
    "VALUES (new.id, new.search_head, new.search_body); END",
)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("code", name=op.f("uq_kb_articles_code")),
    )
    op.create_table(
        "kb_article_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("search_head", sa.Text(), nullable=False),
        sa.Column("search_body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_texts_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_texts")),
        sa.UniqueConstraint(
            "article_id", "language", name=op.f("uq_kb_article_texts_article_id_language")
        ),
    )
    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_via", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_versions_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_kb_article_versions_changed_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint(
            "article_id", "version", name=op.f("uq_kb_article_versions_article_id_version")
        ),
    )
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_article_versions_article_id"), ["article_id"], unique=False
        )
    op.create_table(
        "kb_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_kb_terms")),
    )
    op.create_table(
        "kb_term_trigrams",
        sa.Column("trigram", sa.String(length=3), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["term"],
            ["kb_terms.term"],
            name=op.f("fk_kb_term_trigrams_term_kb_terms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trigram", "term", name=op.f("pk_kb_term_trigrams")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_VECTOR)
        op.execute("CREATE INDEX " + FTS + " ON kb_article_texts USING gin (fts_vector)")
    else:
        for statement in SQLITE_INDEX:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS " + FTS)
        op.execute("ALTER TABLE kb_article_texts DROP COLUMN IF EXISTS fts_vector")
    else:
        for trigger in ("ai", "ad", "au"):
            op.execute("DROP TRIGGER IF EXISTS " + FTS + "_" + trigger)
        op.execute("DROP TABLE IF EXISTS " + FTS)
    op.drop_table("kb_term_trigrams")
    op.drop_table("kb_terms")
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_versions_article_id"))
    op.drop_table("kb_article_versions")
    op.drop_table("kb_article_texts")
    op.drop_table("kb_articles")
