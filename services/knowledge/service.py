"""The knowledge base's rules: articles in English and Spanish, a new version for every
change (what changed, who changed it), search as the call taker types, and the codes that
wrap-up may name. Plain functions over a session; no transactions, no audit."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, selectinload

from services.knowledge import search
from services.knowledge import text as words
from services.knowledge.models import Article, ArticleText, ArticleVersion
from services.platform import ssn
from services.platform.errors import InvalidField, Problem
from services.requests.models import ServiceType

LANGUAGES = ("en", "es")
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"
MAX_RESULTS = 50
# Articles written for a mid-size US city, English and Spanish: `switchboard kb import --starter`.
STARTER_SET = Path(__file__).parent / "starter.json"


@dataclass(frozen=True)
class Translation:
    """An article's text in one language."""

    language: str
    title: str
    body: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleChange:
    """An article as an editor or an import wants it: the shared fields and the texts
    given (a language left out is left as it is). ``retired`` None keeps it as it is;
    ``base_version``, when given, must be the version the editor started from."""

    code: str
    department: str
    service_code: str | None
    translations: tuple[Translation, ...]
    retired: bool | None = None
    base_version: int | None = None


@dataclass(frozen=True)
class Saved:
    article: Article
    created: bool
    changed: list[str]  # fields that changed ("department", "es.body", ...); [] if none


@dataclass(frozen=True)
class TextView:
    language: str
    title: str
    body: str
    keywords: list[str]


@dataclass(frozen=True)
class ArticleView:
    """An article as read: its shared fields and its texts, detached from the session."""

    code: str
    department: str
    service_code: str | None
    retired: bool
    version: int
    updated_at: datetime
    texts: tuple[TextView, ...]


def view(article: Article) -> ArticleView:
    return ArticleView(
        article.code,
        article.department,
        article.service_code,
        article.retired,
        article.version,
        article.updated_at,
        tuple(
            TextView(text.language, text.title, text.body, list(text.keywords))
            for text in sorted(article.texts, key=lambda text: text.language)
        ),
    )


@dataclass
class Found:
    """Articles that a search found, best first, with the words it corrected."""

    articles: list[ArticleView] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)


def get_article(session: Session, code: str, *, for_update: bool = False) -> Article | None:
    query = select(Article).where(Article.code == code).options(selectinload(Article.texts))
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def text_in(article: ArticleView, language: str | None) -> TextView:
    """The article's text in ``language``; in the other language when it has none yet."""
    by_language = {text.language: text for text in article.texts}
    if language in by_language:
        return by_language[language]
    return next(by_language[other] for other in LANGUAGES if other in by_language)


def snapshot(article: Article) -> dict[str, Any]:
    """Every field of the article, every language: what a version keeps."""
    return {
        "department": article.department,
        "service_code": article.service_code,
        "retired": article.retired,
        "texts": {
            text.language: {"title": text.title, "body": text.body, "keywords": text.keywords}
            for text in sorted(article.texts, key=lambda text: text.language)
        },
    }


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changed = [
        name
        for name in ("department", "service_code", "retired")
        if before.get(name) != after[name]
    ]
    for language in LANGUAGES:
        old = before.get("texts", {}).get(language, {})
        new = after["texts"].get(language, {})
        changed += [
            f"{language}.{name}"
            for name in ("title", "body", "keywords")
            if old.get(name) != new.get(name)
        ]
    return changed


def _checked(session: Session, change: ArticleChange) -> None:
    if not change.translations:
        raise InvalidField("translations", "give the article's text in English or Spanish")
    languages = [translation.language for translation in change.translations]
    if len(set(languages)) != len(languages):
        raise InvalidField("language", "give each language once")
    for translation in change.translations:
        if translation.language not in LANGUAGES:
            raise InvalidField("language", "must be en or es")
        # Articles are read to the public: no Social Security number belongs in one.
        ssn.refuse("title", translation.title)
        ssn.refuse("body", translation.body)
        for keyword in translation.keywords:
            ssn.refuse("keywords", keyword)
    if change.service_code is not None and (
        session.scalar(select(ServiceType.id).where(ServiceType.code == change.service_code))
        is None
    ):
        raise InvalidField("service_code", "is not in the service catalogue")


def _keywords(keywords: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keyword.strip() for keyword in keywords if keyword.strip()))


def save(
    session: Session,
    change: ArticleChange,
    *,
    by: int | None,
    via: str,
    now: datetime,
    learn: bool = True,
) -> Saved:
    """Create the article or bring it to ``change``. A change that changes something
    becomes a new version; one that changes nothing leaves no trace. InvalidField for a
    bad field, Problem 409 when ``base_version`` is no longer the article's version.
    ``learn=False`` leaves adding its words to the search vocabulary to the caller."""
    _checked(session, change)
    article = get_article(session, change.code, for_update=True)
    created = article is None
    if article is None:
        article = Article(code=change.code, version=0, created_at=now, updated_at=now)
        article.texts = []
        session.add(article)
        before: dict[str, Any] = {}
    else:
        if change.base_version is not None and change.base_version != article.version:
            raise Problem(
                409,
                "Conflict",
                f"The article was changed since version {change.base_version}; "
                f"it is at version {article.version}. Reload it and edit again.",
            )
        before = snapshot(article)
    article.department = change.department
    article.service_code = change.service_code
    if change.retired is not None:
        article.retired = change.retired
    elif created:
        article.retired = False
    by_language = {text.language: text for text in article.texts}
    for translation in change.translations:
        text = by_language.get(translation.language)
        if text is None:
            text = ArticleText(language=translation.language)
            article.texts.append(text)
        text.title = translation.title
        text.body = translation.body
        text.keywords = _keywords(translation.keywords)
        text.search_head = words.fold(" ".join([translation.title, *text.keywords]))
        text.search_body = words.fold(translation.body)
    after = snapshot(article)
    changed = _differences(before, after)
    if not created and not changed:
        return Saved(article, created=False, changed=[])
    article.version += 1
    article.updated_at = now
    session.flush()
    session.add(
        ArticleVersion(
            article_id=article.id,
            version=article.version,
            content=after,
            changed=changed,
            changed_by_id=by,
            changed_via=via,
            changed_at=now,
        )
    )
    if learn:
        search.learn(session, searchable(article))
    session.flush()
    return Saved(article, created=created, changed=changed)


def searchable(article: Article) -> list[str]:
    """The article's folded text in every language: what search learns words from."""
    return [text.search_head + " " + text.search_body for text in article.texts]


def history(session: Session, article: Article) -> list[ArticleVersion]:
    """The article's versions, newest first."""
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.version.desc())
        )
    )


def _views_statement() -> Select[Any]:
    articles, texts = Article.__table__, ArticleText.__table__
    return (
        select(
            articles.c.id,
            articles.c.code,
            articles.c.department,
            articles.c.service_code,
            articles.c.retired,
            articles.c.version,
            articles.c.updated_at,
            texts.c.language,
            texts.c.title,
            texts.c.body,
            texts.c.keywords,
        )
        .join(texts, texts.c.article_id == articles.c.id)
        .where(articles.c.id.in_(bindparam("ids", expanding=True)))
        .order_by(articles.c.id, texts.c.language)
    )


_VIEWS = _views_statement()  # built once: it runs at every keystroke


def _views(session: Session, ids: Sequence[int]) -> list[ArticleView]:
    """The articles ``ids`` in that order, in one read of both tables (search results are
    read at every keystroke; loading them as ORM objects would cost more than finding them)."""
    if not ids:
        return []
    rows = session.connection().execute(_VIEWS, {"ids": list(ids)})
    heads: dict[int, Any] = {}
    by_article: dict[int, list[TextView]] = {}
    for row in rows:
        heads.setdefault(row.id, row)
        by_article.setdefault(row.id, []).append(
            TextView(row.language, row.title, row.body, list(row.keywords))
        )
    return [
        ArticleView(
            heads[article_id].code,
            heads[article_id].department,
            heads[article_id].service_code,
            bool(heads[article_id].retired),
            heads[article_id].version,
            heads[article_id].updated_at,
            tuple(by_article[article_id]),
        )
        for article_id in ids
        if article_id in heads
    ]


def find(session: Session, typed: str, *, limit: int = 10) -> Found:
    """Articles in service that match what was typed, in either language, best first.
    Each article appears once, ranked by its better-matching language."""
    query = search.parse(session, typed)
    hits = search.matches(session, query, limit=min(limit, MAX_RESULTS) * 2)
    ranked: list[int] = []
    for hit in hits:  # best first; an article's second language adds nothing new
        if hit.article_id not in ranked:
            ranked.append(hit.article_id)
    return Found(_views(session, ranked[:limit]), query.corrections)


def list_articles(
    session: Session, *, include_retired: bool, after: str | None, limit: int
) -> list[Article]:
    """Articles by code, a page at a time (``after`` is the last code of the page before)."""
    query = select(Article).options(selectinload(Article.texts)).order_by(Article.code)
    if not include_retired:
        query = query.where(Article.retired.is_(False))
    if after is not None:
        query = query.where(Article.code > after)
    return list(session.scalars(query.limit(limit)))


def known_codes(session: Session, codes: Collection[str]) -> set[str]:
    """Which of ``codes`` name articles in service: the topics a wrap-up may record.
    A retired article's code is not offered for new wrap-ups."""
    wanted = sorted(set(codes))
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(Article.code).where(Article.code.in_(wanted), Article.retired.is_(False))
        )
    )


def titles_of(session: Session, codes: Collection[str], language: str = "en") -> dict[str, str]:
    """The title of each article named in ``codes`` (retired ones too: a topic recorded
    before it was retired is still named), in ``language``, else in English."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    titles: dict[str, str] = {}
    for code, text_language, title in session.execute(
        select(Article.code, ArticleText.language, ArticleText.title)
        .join(ArticleText, ArticleText.article_id == Article.id)
        .where(Article.code.in_(wanted))
    ):
        if text_language == language or code not in titles:
            titles[code] = title
    return titles


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)  # created or updated


def import_catalogue(
    session: Session, changes: Sequence[ArticleChange], *, by: int | None, now: datetime
) -> Imported:
    """Bring every article of a catalogue to what it says: new codes are created, changed
    ones get a new version, the rest are left alone (importing twice changes nothing)."""
    result = Imported()
    learnt: list[str] = []
    for change in changes:
        saved = save(session, change, by=by, via="import", now=now, learn=False)
        if saved.created:
            result.created += 1
        elif saved.changed:
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        result.codes.append(change.code)
        learnt += searchable(saved.article)
    search.learn(session, learnt)  # once for the whole catalogue
    session.flush()
    return result


def group_rows(rows: Sequence[dict[str, Any]]) -> list[ArticleChange]:
    """Catalogue rows (one per code and language, as ``switchboard kb import`` reads them)
    as one change per code. The shared fields must agree between a code's rows."""
    by_code: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_code.setdefault(row["code"], []).append(row)
    changes = []
    for code, group in by_code.items():
        first = group[0]
        for row in group[1:]:
            for name in ("department", "service_code", "retired"):
                if row.get(name) != first.get(name):
                    raise InvalidField(name, f"differs between the languages of {code}")
        changes.append(
            ArticleChange(
                code=code,
                department=first["department"],
                service_code=first.get("service_code"),
                retired=bool(first.get("retired", False)),
                translations=tuple(
                    Translation(
                        row["language"], row["title"], row["body"], tuple(row.get("keywords", ()))
                    )
                    for row in group
                ),
            )
        )
    return changes
