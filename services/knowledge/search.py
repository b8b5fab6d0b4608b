"""Full-text search of the knowledge base: one interface, the database's own engine.

SQLite (the embedded default) answers from an FTS5 table kept by triggers; PostgreSQL
from a stored, GIN-indexed weighted ``tsvector`` column. Both read the same folded
columns (``text.fold``), both match each query word as a prefix (the call taker is still
typing), both rank with the title and keywords above the body. A query word found in no
article is corrected towards the known words sharing the most trigrams with it, within
an edit distance that grows with the word's length (``text.allowed_edits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from services.knowledge import text as words
from services.knowledge.models import SearchTerm, TermTrigram

CANDIDATES = 40  # words sharing trigrams with a misspelling, checked by edit distance
ALTERNATIVES = 3  # corrections tried for one misspelt word


@dataclass(frozen=True)
class Hit:
    """A text that matched, with its score (higher is better)."""

    text_id: int
    article_id: int
    language: str
    score: float


@dataclass
class Query:
    """What is looked for: per query word, the words that may stand for it (itself, or its
    corrections), and what was corrected."""

    groups: list[list[str]] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)


ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"  # what text.fold leaves, in order


def _after_prefix(word: str) -> str | None:
    """The first string after every word that starts with ``word``, in the alphabet of
    folded words ("pothp" for "potho", "bv" for "buzz"); None if there is none. Digits
    and lower-case letters sort alike in every collation, punctuation does not, so the
    bound is itself a folded word."""
    stem = word.rstrip(ALPHABET[-1])
    if not stem:
        return None
    return stem[:-1] + ALPHABET[ALPHABET.index(stem[-1]) + 1]


def _known_prefixes(session: Session, found: Sequence[str]) -> list[bool]:
    """For each word, whether some known word starts with it: one statement, a range on
    the primary key per word (Core: this runs at every keystroke)."""
    terms = SearchTerm.__table__.c.term
    checks = []
    for word in found:
        bound = _after_prefix(word)
        within = terms >= word if bound is None else and_(terms >= word, terms < bound)
        checks.append(exists().where(within))
    row = session.connection().execute(select(*checks)).one()
    return [bool(value) for value in row]


def corrections(session: Session, word: str, *, whole: bool) -> list[str]:
    """Known words that ``word`` may be a misspelling of, nearest first (ties by the
    trigrams shared): none when it is too short to guess at or nothing is near enough."""
    limit = words.allowed_edits(word)
    if limit == 0:
        return []
    grams = words.trigrams(word, whole=whole)
    shared = func.count().label("shared")
    table = TermTrigram.__table__
    rows = (
        session.connection()
        .execute(
            select(table.c.term, shared)
            .where(table.c.trigram.in_(sorted(grams)))
            .group_by(table.c.term)
            .having(func.count() >= max(1, len(grams) // 3))
            .order_by(shared.desc(), table.c.term)
            .limit(CANDIDATES)
        )
        .all()
    )
    scored = []
    for term, count in rows:
        distance = words.typed_distance(word, term, whole=whole)
        if distance <= limit:
            scored.append((distance, -count, term))
    return [term for _, _, term in sorted(scored)[:ALTERNATIVES]]


def parse(session: Session, typed: str) -> Query:
    """The words of ``typed`` as a query: each known word (or a prefix of one) as it is,
    each unknown one replaced by its nearest known words. The last word may be unfinished."""
    query = Query()
    found = words.query_terms(typed)
    unfinished = typed[-1:].isalnum()
    known = _known_prefixes(session, found) if found else []
    for position, word in enumerate(found):
        whole = not (unfinished and position == len(found) - 1)
        if known[position]:
            query.groups.append([word])
            continue
        nearest = corrections(session, word, whole=whole)
        if nearest:
            query.corrections[word] = nearest[0]
            query.groups.append(nearest)
        else:
            query.groups.append([word])  # finds nothing; with the others it narrows nothing
    return query


def _fts5(groups: Sequence[Sequence[str]], joiner: str) -> str:
    # Every word is [a-z0-9]+ (text.fold), so quoting cannot be broken out of.
    return f" {joiner} ".join(
        "(" + " OR ".join(f'"{word}"*' for word in group) + ")" for group in groups
    )


def _tsquery(groups: Sequence[Sequence[str]], joiner: str) -> str:
    return f" {joiner} ".join(
        "(" + " | ".join(f"{word}:*" for word in group) + ")" for group in groups
    )


def _hits(session: Session, statement: TextClause, query: str, limit: int) -> list[Hit]:
    """The texts ``statement`` finds for the database's own ``query``, best first."""
    return [
        Hit(row.id, row.article_id, row.language, float(row.score))
        for row in session.execute(statement, {"query": query, "limit": limit})
    ]


def _sqlite(session: Session, groups: list[list[str]], every: bool, limit: int) -> list[Hit]:
    statement = text(
        "SELECT t.id, t.article_id, t.language, "
        "-bm25(fts_kb_article_texts, 5.0, 1.0) AS score "
        "FROM fts_kb_article_texts JOIN kb_article_texts t ON t.id = fts_kb_article_texts.rowid "
        "JOIN kb_articles a ON a.id = t.article_id "
        "WHERE fts_kb_article_texts MATCH :query AND NOT a.retired "
        "ORDER BY score DESC, t.id LIMIT :limit"
    )
    return _hits(session, statement, _fts5(groups, "AND" if every else "OR"), limit)


def _postgres(session: Session, groups: list[list[str]], every: bool, limit: int) -> list[Hit]:
    # fts_vector: the title and keywords (weight A) and the body (D), stored and indexed
    # (migration 0012). Cover density ranks words found close together (a title, a
    # keyword) above the same words scattered through a body; normalised by length.
    statement = text(
        "SELECT t.id, t.article_id, t.language, ts_rank_cd(t.fts_vector, q.query, 1) AS score "
        "FROM kb_article_texts t JOIN kb_articles a ON a.id = t.article_id, "
        "to_tsquery('simple'::regconfig, :query) AS q(query) "
        "WHERE t.fts_vector @@ q.query AND NOT a.retired "
        "ORDER BY score DESC, t.id LIMIT :limit"
    )
    return _hits(session, statement, _tsquery(groups, "&" if every else "|"), limit)


def matches(session: Session, query: Query, *, limit: int) -> list[Hit]:
    """Texts of articles in service matching every word of ``query``, best first; when
    none matches them all, those matching any (a longer question still finds its topic)."""
    if not query.groups:
        return []
    run = _postgres if session.get_bind().dialect.name == "postgresql" else _sqlite
    found = run(session, query.groups, True, limit)
    if not found and len(query.groups) > 1:
        found = run(session, query.groups, False, limit)
    return found


def learn(session: Session, texts: Sequence[str]) -> None:
    """Add the words of ``texts`` (folded) to the vocabulary that corrections come from.
    Words are never forgotten: a stale one only offers a correction that finds nothing."""
    new = words.vocabulary(texts)
    if not new:
        return
    candidates = sorted(new)
    known: set[str] = set()
    for start in range(0, len(candidates), 500):  # within every database's parameter limit
        chunk = candidates[start : start + 500]
        known.update(session.scalars(select(SearchTerm.term).where(SearchTerm.term.in_(chunk))))
    missing = sorted(new - known)
    if not missing:
        return
    # Two editors may add the same new word at once: the second insert is a no-op. Plain
    # driver inserts: a catalogue brings tens of thousands of trigrams, and building each
    # row's parameters through SQLAlchemy costs more than writing it.
    qmark = session.get_bind().dialect.paramstyle == "qmark"
    connection = session.connection()
    connection.exec_driver_sql(
        "INSERT INTO kb_terms (term) VALUES (?) ON CONFLICT DO NOTHING"
        if qmark
        else "INSERT INTO kb_terms (term) VALUES (%s) ON CONFLICT DO NOTHING",
        [(term,) for term in missing],
    )
    connection.exec_driver_sql(
        "INSERT INTO kb_term_trigrams (trigram, term) VALUES (?, ?) ON CONFLICT DO NOTHING"
        if qmark
        else "INSERT INTO kb_term_trigrams (trigram, term) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        [(gram, term) for term in missing for gram in sorted(words.trigrams(term))],
    )
