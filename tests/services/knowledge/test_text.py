"""How typed text becomes search words, and how far a misspelling may be from a word."""

from __future__ import annotations

from services.knowledge import search
from services.knowledge.text import (
    allowed_edits,
    edit_distance,
    fold,
    query_terms,
    trigrams,
    typed_distance,
)


def test_folding_meets_accents_case_and_punctuation() -> None:
    assert fold("¿Qué día recogen la BASURA?") == "que dia recogen la basura"
    assert fold("Camión, camion; CAMIÓN") == "camion camion camion"
    assert fold("Año: 2026!") == "ano 2026"


def test_a_query_drops_stopwords_unless_nothing_else_is_left() -> None:
    assert query_terms("How do I get a bulk pickup?") == ["bulk", "pickup"]
    assert query_terms("¿Dónde está la basura de la calle?") == ["esta", "basura", "calle"]
    assert query_terms("where") == ["where"]
    assert query_terms("a b") == []


def test_edit_distance_counts_swaps_as_one() -> None:
    assert edit_distance("pothole", "potohle") == 1
    assert edit_distance("mattress", "matress") == 1
    assert edit_distance("graffiti", "grafitti") == 2
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3


def test_an_unfinished_word_is_compared_with_the_start_of_the_word() -> None:
    assert typed_distance("stre", "streetlight", whole=False) == 0
    assert typed_distance("strt", "streetlight", whole=False) == 1
    assert typed_distance("strt", "streetlight", whole=True) > 2


def test_longer_words_allow_more_edits_and_short_ones_none() -> None:
    assert [allowed_edits(word) for word in ("bus", "rats", "parking", "calefaccion")] == [
        0,
        1,
        1,
        2,
    ]


def test_trigrams_are_padded_like_pg_trgm() -> None:
    assert trigrams("cat") == {"  c", " ca", "cat", "at "}
    assert trigrams("cat", whole=False) == {"  c", " ca", "cat"}


def test_the_prefix_range_ends_at_the_next_folded_word() -> None:
    assert search._after_prefix("potho") == "pothp"
    assert search._after_prefix("buzz") == "bv"
    assert search._after_prefix("ab9") == "aba"
    assert search._after_prefix("zz") is None
