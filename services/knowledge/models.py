"""The knowledge base's tables: articles, their texts by language, their versions, and
the vocabulary that lets a search forgive a misspelt word."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base


class Article(Base):
    """One answer, by code: who it belongs to and whether it is still given."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    department: Mapped[str] = mapped_column(String(120))
    # The catalogue's service when the answer is "file a request"; None for information.
    service_code: Mapped[str | None] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    texts: Mapped[list[ArticleText]] = relationship(
        back_populates="article", order_by="ArticleText.language", cascade="all, delete-orphan"
    )


class ArticleText(Base):
    """An article in one language. ``search_head`` and ``search_body`` are the title with
    the keywords, and the body, case- and accent-folded: what the full-text index reads
    (SQLite FTS5 through triggers; on PostgreSQL a generated ``fts_vector`` column with a
    GIN index, both made by migration 0012, not by this model)."""

    __tablename__ = "kb_article_texts"
    __table_args__ = (UniqueConstraint("article_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    search_head: Mapped[str] = mapped_column(Text)
    search_body: Mapped[str] = mapped_column(Text)
    article: Mapped[Article] = relationship(back_populates="texts")


class ArticleVersion(Base):
    """The article as it stood after one change: every field in every language, which
    fields changed, who changed them and when."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    changed: Mapped[list[str]] = mapped_column(default=list)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    changed_via: Mapped[str] = mapped_column(String(16))  # api, console, import
    changed_at: Mapped[datetime]


class SearchTerm(Base):
    """A word that occurs in some article (folded), for correcting a misspelt query word."""

    __tablename__ = "kb_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)


class TermTrigram(Base):
    """The trigrams of each known word: a misspelt word's candidates are the words that
    share the most trigrams with it, then ranked by edit distance."""

    __tablename__ = "kb_term_trigrams"

    trigram: Mapped[str] = mapped_column(String(3), primary_key=True)
    term: Mapped[str] = mapped_column(
        ForeignKey("kb_terms.term", ondelete="CASCADE"), primary_key=True
    )
