"""How article text and what the call taker types become search terms, the same way on
every database: case- and accent-folded words, so "camion", "Camión" and "CAMIÓN" meet."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TERM = 64
_WORD = re.compile(r"[a-z0-9]+")

# Words that say nothing about the topic; left out of queries (never out of the index,
# so a title still reads whole).
ENGLISH_STOPWORDS = (
    "a an and are as at be by can do does for from get how i in is it me my of on or our "
    "the to what when where who why will with you your"
)
SPANISH_STOPWORDS = (
    "al como con cual cuando de del donde el en es hay la las lo los mi mis o para por "
    "puedo que quiero se sin su sus un una uno unos y"
)
STOPWORDS = frozenset((ENGLISH_STOPWORDS + " " + SPANISH_STOPWORDS).split())


def fold(text: str) -> str:
    """Lower case, accents and punctuation removed: 'Año: 2026!' -> 'ano 2026'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_WORD.findall(bare))


def terms(text: str) -> list[str]:
    """The folded words of ``text``, in order, each at most MAX_TERM letters long."""
    return [word for word in fold(text).split() if len(word) <= MAX_TERM]


def query_terms(typed: str) -> list[str]:
    """What a query looks for: its folded words without stopwords and single letters;
    a query of nothing but stopwords keeps them. Repeats are dropped, order kept."""
    words = [word for word in terms(typed) if len(word) > 1]
    meaningful = [word for word in words if word not in STOPWORDS] or words
    return list(dict.fromkeys(meaningful))


def vocabulary(texts: Iterable[str]) -> set[str]:
    """The distinct words of ``texts`` worth correcting a query towards."""
    return {word for text in texts for word in terms(text) if len(word) > 1}


def trigrams(word: str, *, whole: bool = True) -> set[str]:
    """The word's trigrams, padded as PostgreSQL's pg_trgm pads them: two spaces before,
    one after. A word still being typed (``whole=False``) has no end yet, so no end pad."""
    padded = "  " + word + (" " if whole else "")
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
    substitutions and swaps of neighbours each count one."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def allowed_edits(word: str) -> int:
    """How many edits a misspelling may be from the word meant: one for short words, two
    from eight letters on (the way Lucene's fuzzy queries scale)."""
    if len(word) < 4:
        return 0
    return 1 if len(word) < 8 else 2


def typed_distance(typed: str, term: str, *, whole: bool) -> int:
    """How far ``typed`` is from ``term``; a word still being typed is compared with the
    start of the term (the nearest of its prefixes one shorter, as long, one longer)."""
    if whole:
        return edit_distance(typed, term)
    lengths = {max(1, len(typed) + delta) for delta in (-1, 0, 1)}
    return min(edit_distance(typed, term[:length]) for length in lengths)
