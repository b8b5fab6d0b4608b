"""The knowledge base's use cases. Reading and searching answers written for the public
is not audited (like the service catalogue); every change is, with the article's code
and version, and so is a look-up of one article, found or not."""

from __future__ import annotations

from collections.abc import Sequence

from services.knowledge import service as knowledge
from services.knowledge.models import Article, ArticleVersion
from services.knowledge.schemas import (
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticleQuery,
    ArticleUpdate,
    HistoryOut,
    ImportOut,
    VersionOut,
)
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import Problem, existing
from services.staff import service as accounts

ARTICLE = "kb_article"


def _out(
    context: AppContext, found: Article | knowledge.ArticleView, language: str | None
) -> ArticleOut:
    article = knowledge.view(found) if isinstance(found, Article) else found
    text = knowledge.text_in(article, language)
    return ArticleOut(
        code=article.code,
        title=text.title,
        body=text.body,
        language=text.language,
        department=article.department,
        service_code=article.service_code,
        keywords=list(text.keywords),
        retired=article.retired,
        version=article.version,
        languages=sorted(other.language for other in article.texts),
        updated_at=article.updated_at.astimezone(context.city_tz),
    )


def search_articles(context: AppContext, query: ArticleQuery) -> ArticleList:
    """Articles matching ``q`` in either language, best first, each in ``language`` when
    written in it; without ``q``, articles by code a page at a time."""
    with context.db() as session:
        if query.q and query.q.strip():
            found = knowledge.find(session, query.q, limit=query.limit)
            return ArticleList(
                items=[_out(context, article, query.language) for article in found.articles],
                corrections=found.corrections,
            )
        listed = knowledge.list_articles(
            session, include_retired=query.include_retired, after=query.after, limit=query.limit
        )
        return ArticleList(items=[_out(context, article, query.language) for article in listed])


def read_article(context: AppContext, actor: Actor, code: str, language: str | None) -> ArticleOut:
    """One article, in ``language`` when written in it."""
    with unit_of_work(context, actor, "kb.view", object_type=ARTICLE, object_id=code) as work:
        article = existing(knowledge.get_article(work.session, code), "article")
        return _out(context, article, language)


def _translation(body: ArticleIn | ArticleUpdate) -> knowledge.Translation:
    return knowledge.Translation(body.language, body.title, body.body, tuple(body.keywords))


def create_article(context: AppContext, actor: Actor, body: ArticleIn, *, via: str) -> ArticleOut:
    """A new article (version 1). 409 when the code is taken."""
    with unit_of_work(
        context, actor, "kb.create", object_type=ARTICLE, object_id=body.code
    ) as work:
        if knowledge.get_article(work.session, body.code) is not None:
            raise Problem(409, "Conflict", "An article with this code exists; edit it instead.")
        change = knowledge.ArticleChange(
            code=body.code,
            department=body.department,
            service_code=body.service_code,
            retired=body.retired,
            translations=(_translation(body),),
        )
        saved = knowledge.save(work.session, change, by=actor.user_id, via=via, now=work.now)
        work.note(version=saved.article.version, language=body.language)
        return _out(context, saved.article, body.language)


def update_article(
    context: AppContext, actor: Actor, code: str, body: ArticleUpdate, *, via: str
) -> ArticleOut:
    """Change an article's text in one language (or add that language) and its shared
    fields; a new version when anything changed. 404 for an unknown code, 409 when
    ``version`` is given and the article has moved on since."""
    with unit_of_work(context, actor, "kb.update", object_type=ARTICLE, object_id=code) as work:
        existing(knowledge.get_article(work.session, code), "article")
        change = knowledge.ArticleChange(
            code=code,
            department=body.department,
            service_code=body.service_code,
            retired=body.retired,
            translations=(_translation(body),),
            base_version=body.version,
        )
        saved = knowledge.save(work.session, change, by=actor.user_id, via=via, now=work.now)
        work.note(version=saved.article.version, language=body.language, changed=saved.changed)
        return _out(context, saved.article, body.language)


def _version_out(context: AppContext, version: ArticleVersion, names: dict[int, str]) -> VersionOut:
    return VersionOut(
        version=version.version,
        changed_at=version.changed_at.astimezone(context.city_tz),
        changed_by=names.get(version.changed_by_id) if version.changed_by_id else None,
        changed_via=version.changed_via,
        changed=version.changed,
        article=version.content,
    )


def article_history(context: AppContext, actor: Actor, code: str) -> HistoryOut:
    """Every version of an article, newest first: what changed, who changed it, when."""
    with unit_of_work(context, actor, "kb.history", object_type=ARTICLE, object_id=code) as work:
        article = existing(knowledge.get_article(work.session, code), "article")
        versions = knowledge.history(work.session, article)
        names = accounts.usernames(
            work.session, {v.changed_by_id for v in versions if v.changed_by_id is not None}
        )
        return HistoryOut(
            code=code, items=[_version_out(context, version, names) for version in versions]
        )


def import_articles(context: AppContext, actor: Actor, rows: Sequence[ArticleIn]) -> ImportOut:
    """Load a catalogue: one row per code and language. New codes are created, changed
    ones get a new version, unchanged ones are left alone; all or nothing."""
    with unit_of_work(context, actor, "kb.import", object_type=ARTICLE) as work:
        changes = knowledge.group_rows([row.model_dump() for row in rows])
        imported = knowledge.import_catalogue(work.session, changes, by=actor.user_id, now=work.now)
        work.note(
            rows=len(rows),
            created=imported.created,
            updated=imported.updated,
            unchanged=imported.unchanged,
        )
        return ImportOut(
            created=imported.created, updated=imported.updated, unchanged=imported.unchanged
        )


def known_codes(context: AppContext, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` name articles in service."""
    with context.db() as session:
        return knowledge.known_codes(session, codes)
