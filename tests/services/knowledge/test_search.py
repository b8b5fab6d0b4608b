"""Search as the call taker types: either language, ranked, misspellings forgiven, on
SQLite's FTS5 and PostgreSQL's full-text search alike (every test runs on both)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.knowledge import actions
from services.knowledge.schemas import ArticleIn
from services.platform.context import AppContext

pytestmark = pytest.mark.usefixtures("starter")


def search(client: TestClient, headers: dict[str, str], q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/kb/articles", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def codes(result: dict[str, Any]) -> list[str]:
    return [item["code"] for item in result["items"]]


ANSWERS = [
    ("pothole", "en", "pothole-report"),
    ("bache", "es", "pothole-report"),
    ("street light out", "en", "streetlight-out"),
    ("luz de la calle", "es", "streetlight-out"),
    ("no heat", "en", "no-heat-rental"),
    ("calefacción", "es", "no-heat-rental"),
    ("mattress", "en", "mattress-disposal"),
    ("colchón", "es", "mattress-disposal"),
    ("parking ticket dispute", "en", "parking-ticket-dispute"),
    ("disputar multa", "es", "parking-ticket-dispute"),
    ("rats", "en", "rodent-sighting"),
    ("ratas", "es", "rodent-sighting"),
]
# (One test over many queries: loading the starter set is what a test here costs.)


def test_the_answer_comes_first_in_either_language(
    client: TestClient, agent: dict[str, str]
) -> None:
    for typed, language, expected in ANSWERS:
        result = search(client, agent, typed, language=language)
        assert codes(result)[:1] == [expected], (typed, codes(result))
        assert result["items"][0]["language"] == language, typed
        assert result["corrections"] == {}, typed


def test_a_spanish_word_finds_the_article_shown_in_english(
    client: TestClient, agent: dict[str, str]
) -> None:
    # The caller says "basura"; the call taker reads the answer in English.
    result = search(client, agent, "basura recoleccion", language="en")
    assert "trash-collection-schedule" in codes(result)[:3]
    assert {item["language"] for item in result["items"]} == {"en"}


def test_each_article_appears_once_and_results_are_ranked(
    client: TestClient, agent: dict[str, str]
) -> None:
    result = search(client, agent, "trash", limit=20)
    found = codes(result)
    assert len(found) == len(set(found)) >= 3
    # A title match outranks a passing mention in a body.
    assert found.index("trash-collection-schedule") < found.index("dead-animal-removal")


def test_search_as_the_call_taker_types(client: TestClient, agent: dict[str, str]) -> None:
    assert codes(search(client, agent, "potho"))[0] == "pothole-report"
    assert codes(search(client, agent, "graffiti on my ho"))[0] == "graffiti-private-property"
    assert codes(search(client, agent, "recolec", language="es"))  # a Spanish prefix


MISSPELT = [
    ("pothol", None, "pothole-report"),  # unfinished: a prefix, nothing to correct
    ("potohle", "pothole", "pothole-report"),  # swapped letters
    ("matress disposal", "mattress", "mattress-disposal"),  # a letter left out
    ("grafitti", "graffiti", "graffiti-removal-public"),
    ("recyling cart", "recycling", "recycling-cart-replacement"),
    ("calefacion", "calefaccion", "no-heat-rental"),
    ("colchon", None, "mattress-disposal"),  # no accent typed: folded, not corrected
    ("fallen tre", None, "street-tree-fallen"),  # still typing the last word
    ("arbol caido", None, "street-tree-fallen"),
]


def test_common_misspellings_still_find_the_answer(
    client: TestClient, agent: dict[str, str]
) -> None:
    for typed, meant, expected in MISSPELT:
        result = search(client, agent, typed)
        assert expected in codes(result)[:3], (typed, codes(result))
        if meant is None:
            assert result["corrections"] == {}, typed
        else:
            # The word is corrected (to an English or a Spanish spelling: "grafiti" is one).
            corrected = result["corrections"].get(typed.split()[0], "")
            assert corrected.replace("ff", "f") == meant.replace("ff", "f"), (typed, corrected)


def test_nonsense_finds_nothing_rather_than_anything(
    client: TestClient, agent: dict[str, str]
) -> None:
    assert search(client, agent, "xqzvvy ")["items"] == []


def test_retired_articles_are_not_offered_but_still_readable(
    client: TestClient, agent: dict[str, str]
) -> None:
    assert "covid-testing-sites" not in codes(search(client, agent, "covid testing"))
    read = client.get("/api/kb/articles/covid-testing-sites", headers=agent).json()
    assert read["retired"] is True
    listed = client.get("/api/kb/articles?limit=50", headers=agent).json()
    assert all(not item["retired"] for item in listed["items"])
    with_retired = client.get(
        "/api/kb/articles?limit=50&include_retired=true", headers=agent
    ).json()
    assert any(item["retired"] for item in with_retired["items"])


def test_a_new_article_is_found_at_once_and_an_edit_moves_it(
    client: TestClient, editor: dict[str, str], agent: dict[str, str]
) -> None:
    new = {
        "code": "leaf-vacuum",
        "language": "en",
        "title": "Curbside leaf vacuum",
        "body": "Rake leaves to the curb line in November.",
        "department": "Sanitation",
    }
    assert client.post("/api/kb/articles", json=new, headers=editor).status_code == 201
    assert codes(search(client, agent, "vacuum"))[0] == "leaf-vacuum"
    changed = {key: value for key, value in new.items() if key != "code"}
    changed["title"] = "Curbside leaf collection by truck"
    client.put("/api/kb/articles/leaf-vacuum", json=changed, headers=editor)
    assert codes(search(client, agent, "vacuum")) == []
    # The new word is learnt: a misspelling of it is corrected.
    assert codes(search(client, agent, "tuck colection "))[:1] == ["leaf-vacuum"]


def test_known_codes_are_the_articles_in_service(
    context: AppContext, starter: list[ArticleIn]
) -> None:
    assert actions.known_codes(
        context, ["pothole-report", "covid-testing-sites", "no-such-topic"]
    ) == {"pothole-report"}
