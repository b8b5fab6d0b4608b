"""What the knowledge base's API takes and answers, and the rows ``kb import`` reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.knowledge.service import CODE_PATTERN, MAX_RESULTS
from services.platform.params import PlainText

Language = Literal["en", "es"]
Keyword = Annotated[PlainText, StringConstraints(min_length=1, max_length=60)]


class ArticleFields(BaseModel):
    """An article in one language, with the fields its languages share."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    language: Language
    title: PlainText = Field(min_length=1, max_length=200)
    body: PlainText = Field(min_length=1, max_length=8000)
    department: PlainText = Field(min_length=1, max_length=120)
    service_code: str | None = Field(
        default=None,
        max_length=64,
        description="The catalogue's service when the answer is to file a request.",
    )
    keywords: list[Keyword] = Field(
        default_factory=list,
        max_length=20,
        description="Words a call taker may type for this answer (synonyms, common names).",
    )


class ArticleIn(ArticleFields):
    """A new article (POST), or one row of a catalogue file (``switchboard kb import``)."""

    code: str = Field(pattern=CODE_PATTERN, description="Lower-case letters, digits, dashes.")
    retired: bool = False


class ArticleUpdate(ArticleFields):
    """An article's text in one language (added if new) and its shared fields."""

    retired: bool | None = Field(
        default=None, description="Retire or restore; unchanged if left out."
    )
    version: int | None = Field(
        default=None, ge=1, description="The version edited; refused (409) if it has moved on."
    )


class ArticleQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: PlainText | None = Field(
        default=None, max_length=200, description="What the call taker typed."
    )
    language: Language | None = Field(
        default=None, description="Answer in this language; found in either."
    )
    limit: int = Field(default=10, ge=1, le=MAX_RESULTS)
    include_retired: bool = Field(default=False, description="Without q: list retired ones too.")
    after: str | None = Field(
        default=None,
        pattern=CODE_PATTERN,
        description="Without q: the last code of the page before.",
    )


class LanguageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language | None = None


class ArticleOut(BaseModel):
    code: str
    title: str
    body: str
    language: str
    department: str
    service_code: str | None
    keywords: list[str]
    retired: bool
    version: int
    languages: list[str] = Field(description="The languages the article is written in.")
    updated_at: datetime


class ArticleList(BaseModel):
    items: list[ArticleOut]
    corrections: dict[str, str] = Field(
        default_factory=dict, description="Misspelt words searched for as these known words."
    )


class VersionOut(BaseModel):
    version: int
    changed_at: datetime
    changed_by: str | None
    changed_via: str
    changed: list[str]
    article: dict[str, Any] = Field(description="Every field in every language at this version.")


class HistoryOut(BaseModel):
    code: str
    items: list[VersionOut]


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
