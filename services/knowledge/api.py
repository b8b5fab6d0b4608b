"""Staff API for the knowledge base: call takers and supervisors read and search it,
knowledge editors change it. Routes parse, call one action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.knowledge import actions
from services.knowledge.schemas import (
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticleQuery,
    ArticleUpdate,
    HistoryOut,
    LanguageQuery,
)
from services.knowledge.service import CODE_PATTERN
from services.platform.auth import KnowledgeEditor, KnowledgeReader, Staff
from services.platform.context import ContextDep

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])
Code = Annotated[str, Path(pattern=CODE_PATTERN)]


def _via(staff: Staff) -> str:
    """Where a change came from, for the history: the console (a session) or the API."""
    return "console" if staff.via == "session" else "api"


@router.get("/articles", response_model=ArticleList)
def search_articles(
    _staff: KnowledgeReader, context: ContextDep, query: Annotated[ArticleQuery, Query()]
) -> ArticleList:
    """Articles matching ``q`` (as typed, in English or Spanish, misspellings forgiven),
    best first, each in ``language`` when written in it. Without ``q``: every article in
    service by code, ``limit`` at a time (pass the last code back as ``after``)."""
    return actions.search_articles(context, query)


@router.post("/articles", status_code=201, response_model=ArticleOut)
def create_article(body: ArticleIn, staff: KnowledgeEditor, context: ContextDep) -> ArticleOut:
    """A new article in one language (add the other with PUT). 409 when the code is taken."""
    return actions.create_article(context, staff.actor, body, via=_via(staff))


@router.get("/articles/{code}", response_model=ArticleOut)
def read_article(
    code: Code,
    staff: KnowledgeReader,
    context: ContextDep,
    query: Annotated[LanguageQuery, Query()],
) -> ArticleOut:
    """One article (retired ones too), in ``language`` when written in it."""
    return actions.read_article(context, staff.actor, code, query.language)


@router.put("/articles/{code}", response_model=ArticleOut)
def update_article(
    code: Code, body: ArticleUpdate, staff: KnowledgeEditor, context: ContextDep
) -> ArticleOut:
    """Change an article's text in one language (or add that language), its department,
    service and retirement; a new version when anything changed. Send the ``version``
    you edited to be refused (409) rather than overwrite someone else's change."""
    return actions.update_article(context, staff.actor, code, body, via=_via(staff))


@router.get("/articles/{code}/history", response_model=HistoryOut)
def article_history(code: Code, staff: KnowledgeReader, context: ContextDep) -> HistoryOut:
    """Every version of the article, newest first: what changed, who changed it, when."""
    return actions.article_history(context, staff.actor, code)
