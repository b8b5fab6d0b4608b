"""The starter set that ships with Switchboard, and ``switchboard kb import`` loading it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from services.knowledge.schemas import ArticleIn
from services.knowledge.service import STARTER_SET
from services.platform import ssn
from services.requests.catalogue import DEFAULT_SERVICES
from tests.support import cli_env, switchboard

# Each topic a mid-size city's 311 is asked about, and an article that answers it.
TOPICS = {
    "trash and recycling": "recycling-what-goes-in",
    "bulk pickup": "bulk-item-pickup",
    "potholes": "pothole-report",
    "streetlights": "streetlight-out",
    "parking tickets": "parking-ticket-pay",
    "water bills": "water-bill-high",
    "noise": "noise-complaint",
    "animal control": "stray-dog",
    "permits": "building-permit",
    "property tax": "property-tax-pay",
    "elections": "polling-place",
    "public transit": "bus-routes-schedules",
    "heat and hot water": "no-heat-rental",
    "rodents": "rodent-sighting",
    "graffiti": "graffiti-removal-public",
    "street trees": "tree-trimming-request",
    "snow": "snow-emergency-parking",
}


def test_the_starter_set_covers_a_city_in_english_and_spanish(
    starter_rows: list[ArticleIn],
) -> None:
    languages = Counter(row.code for row in starter_rows)
    assert len(languages) >= 60
    assert set(languages.values()) == {2}
    assert {(row.code, row.language) for row in starter_rows} == {
        (code, language) for code in languages for language in ("en", "es")
    }
    codes = set(languages)
    assert {topic: code for topic, code in TOPICS.items() if code not in codes} == {}
    retired = {row.code for row in starter_rows if row.retired}
    assert retired and all(code.startswith("covid-") for code in retired)
    assert {row.code for row in starter_rows if row.code.startswith("covid-")} == retired
    catalogue = {service.code for service in DEFAULT_SERVICES}
    assert {row.service_code for row in starter_rows} - {None} <= catalogue
    assert len({row.service_code for row in starter_rows} - {None}) >= 10
    for row in starter_rows:
        assert not ssn.contains_ssn(row.body), row.code
        assert "http" not in row.body and "@" not in row.body, row.code  # no links to follow
    spanish = {row.code: row.body for row in starter_rows if row.language == "es"}
    english = {row.code: row.body for row in starter_rows if row.language == "en"}
    assert all(spanish[code] != english[code] for code in codes)


def test_kb_import_loads_a_catalogue_once_and_versions_what_changes(
    database_url: str, tmp_path: Path
) -> None:
    env = cli_env(database_url, tmp_path / "var")
    assert switchboard(env, "db", "upgrade").returncode == 0
    first = switchboard(env, "kb", "import", "--starter")
    assert first.returncode == 0, first.stderr
    rows = json.loads(STARTER_SET.read_text("utf-8"))
    articles = len({row["code"] for row in rows})
    assert first.stdout.strip() == f"{articles} created, 0 updated, 0 unchanged"
    again = switchboard(env, "kb", "import", str(STARTER_SET))
    assert again.stdout.strip() == f"0 created, 0 updated, {articles} unchanged"

    changed = [
        {**row, "body": row["body"] + " Crews also pick up on Saturdays."}
        if (row["code"], row["language"]) == ("bulk-item-pickup", "en")
        else row
        for row in rows
    ]
    edited = tmp_path / "catalogue.json"
    edited.write_text(json.dumps(changed), encoding="utf-8")
    updated = switchboard(env, "kb", "import", str(edited))
    assert updated.stdout.strip() == f"0 created, 1 updated, {articles - 1} unchanged"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**rows[0], "code": "a-new-one", "language": "de"}]))
    refused = switchboard(env, "kb", "import", str(bad))
    assert refused.returncode == 2
    assert "language" in refused.stderr

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        versions = connection.execute(
            sa.text(
                "SELECT v.version, v.changed, v.changed_via FROM kb_article_versions v "
                "JOIN kb_articles a ON a.id = v.article_id WHERE a.code = 'bulk-item-pickup' "
                "ORDER BY v.version"
            )
        ).all()
        total = connection.execute(sa.text("SELECT count(*) FROM kb_articles")).scalar()
        imports = connection.execute(
            sa.text("SELECT count(*) FROM audit_log WHERE action = 'kb.import'")
        ).scalar()
    engine.dispose()
    assert [(version, via) for version, _, via in versions] == [(1, "import"), (2, "import")]
    changed_fields = versions[1][1]
    assert (json.loads(changed_fields) if isinstance(changed_fields, str) else changed_fields) == [
        "en.body"
    ]
    assert total == articles
    assert imports == 3
