"""Knowledge editors write and change articles; call takers and supervisors read them;
every change is a version that says who changed what."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from services.knowledge import actions
from services.knowledge.models import Article, ArticleVersion
from services.knowledge.schemas import ArticleIn
from services.platform import audit
from services.platform.context import AppContext
from services.platform.errors import Problem
from services.platform.models import AuditEntry
from services.platform.roles import Role
from tests.support import StaffFactory, audit_entries, echoed

BULK_EN: dict[str, Any] = {
    "code": "bulk-item-pickup",
    "language": "en",
    "title": "Bulk item pickup",
    "body": "Up to five large items are collected free by appointment.",
    "department": "Sanitation",
    "service_code": "bulk-pickup",
    "keywords": ["couch", "furniture"],
}
BULK_ES = {
    "language": "es",
    "title": "Recolección de objetos grandes",
    "body": "Se recogen gratis hasta cinco objetos grandes, con cita.",
    "department": "Sanitation",
    "service_code": "bulk-pickup",
    "keywords": ["sofá", "muebles"],
}


def count(context: AppContext, model: Any) -> int:
    with context.db() as session:
        return session.query(model).count()


def test_an_editor_writes_both_languages_and_an_agent_reads_either(
    client: TestClient, editor: dict[str, str], agent: dict[str, str]
) -> None:
    created = client.post("/api/kb/articles", json=BULK_EN, headers=editor)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    assert created.json()["languages"] == ["en"]
    spanish = client.put("/api/kb/articles/bulk-item-pickup", json=BULK_ES, headers=editor)
    assert spanish.status_code == 200, spanish.text
    assert spanish.json()["version"] == 2
    assert spanish.json()["languages"] == ["en", "es"]

    read = client.get("/api/kb/articles/bulk-item-pickup?language=es", headers=agent).json()
    assert read["language"] == "es"
    assert read["title"] == "Recolección de objetos grandes"
    assert read["service_code"] == "bulk-pickup"
    assert read["department"] == "Sanitation"
    english = client.get("/api/kb/articles/bulk-item-pickup", headers=agent).json()
    assert english["language"] == "en"
    assert english["body"] == BULK_EN["body"]


def test_each_change_is_a_version_naming_who_changed_what(
    client: TestClient, context: AppContext, editor: dict[str, str], supervisor: dict[str, str]
) -> None:
    client.post("/api/kb/articles", json=BULK_EN, headers=editor)
    changed = {**BULK_EN, "body": "Up to six large items.", "version": 1}
    del changed["code"]
    assert (
        client.put("/api/kb/articles/bulk-item-pickup", json=changed, headers=editor).json()[
            "version"
        ]
        == 2
    )
    # The same again changes nothing, so it is no new version.
    del changed["version"]
    again = client.put("/api/kb/articles/bulk-item-pickup", json=changed, headers=editor)
    assert again.json()["version"] == 2
    retired = client.put(
        "/api/kb/articles/bulk-item-pickup", json={**changed, "retired": True}, headers=editor
    )
    assert retired.json()["retired"] is True

    history = client.get("/api/kb/articles/bulk-item-pickup/history", headers=supervisor).json()
    assert [item["version"] for item in history["items"]] == [3, 2, 1]
    assert [item["changed"] for item in history["items"]] == [
        ["retired"],
        ["en.body"],
        ["department", "service_code", "retired", "en.title", "en.body", "en.keywords"],
    ]
    assert {item["changed_by"] for item in history["items"]} == {"kim"}
    assert history["items"][1]["article"]["texts"]["en"]["body"] == "Up to six large items."
    assert history["items"][2]["article"]["texts"]["en"]["body"] == BULK_EN["body"]
    assert count(context, ArticleVersion) == 3
    assert {
        entry.detail.get("version")
        for entry in audit_entries(context, AuditEntry.action == "kb.update")
    } == {2, 3}


def test_an_edit_from_an_old_version_is_refused_not_lost(
    client: TestClient, editor: dict[str, str]
) -> None:
    client.post("/api/kb/articles", json=BULK_EN, headers=editor)
    first = {**BULK_ES, "version": 1}
    assert (
        client.put("/api/kb/articles/bulk-item-pickup", json=first, headers=editor).status_code
        == 200
    )
    stale = {**BULK_ES, "body": "Otro texto.", "version": 1}
    refused = client.put("/api/kb/articles/bulk-item-pickup", json=stale, headers=editor)
    assert refused.status_code == 409
    assert "version 2" in refused.json()["detail"]
    read = client.get("/api/kb/articles/bulk-item-pickup?language=es", headers=editor).json()
    assert read["body"] == BULK_ES["body"]


def test_only_knowledge_editors_change_articles(
    client: TestClient, staff: StaffFactory, editor: dict[str, str]
) -> None:
    for role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.PRIVACY_OFFICER):
        headers = staff.headers(role)
        assert client.post("/api/kb/articles", json=BULK_EN, headers=headers).status_code == 403
    assert client.post("/api/kb/articles", json=BULK_EN, headers=editor).status_code == 201
    admin = staff.headers(Role.ADMIN)
    # Administrators manage accounts, not content: they do not even read it.
    assert client.get("/api/kb/articles?q=bulk", headers=admin).status_code == 403
    update = {key: value for key, value in BULK_EN.items() if key != "code"}
    assert (
        client.put("/api/kb/articles/bulk-item-pickup", json=update, headers=admin).status_code
        == 403
    )


def test_bad_input_is_refused_by_field_and_changes_nothing(
    client: TestClient, context: AppContext, editor: dict[str, str]
) -> None:
    cases = [
        ({**BULK_EN, "service_code": "no-such-service"}, "service_code"),
        ({**BULK_EN, "body": "Caller gave 123-45-6789 as her number."}, "body"),
        ({**BULK_EN, "language": "fr"}, "language"),
        ({**BULK_EN, "code": "Bulk Pickup!"}, "code"),
        ({**BULK_EN, "title": ""}, "title"),
        ({**BULK_EN, "keywords": ["x"] * 21}, "keywords"),
        ({**BULK_EN, "keywords": ["y" * 61]}, "keywords.0"),
        # Control characters are refused by field (PostgreSQL could not even store NUL).
        ({**BULK_EN, "title": "Bulk\x01pickup"}, "title"),
        ({**BULK_EN, "department": "Sanitation\x07"}, "department"),
    ]
    # NUL itself never reaches a route: the request layer refuses it in any body (400).
    nul = client.post(
        "/api/kb/articles", json={**BULK_EN, "title": "Bulk\x00pickup"}, headers=editor
    )
    assert nul.status_code == 400, nul.text
    for body, field in cases:
        response = client.post("/api/kb/articles", json=body, headers=editor)
        assert response.status_code == 422, (field, response.text)
        assert field in {error["field"] for error in response.json()["errors"]}, response.json()
        assert "123-45-6789" not in echoed(response)
    assert count(context, Article) == 0
    assert client.post("/api/kb/articles", json=BULK_EN, headers=editor).status_code == 201
    taken = client.post("/api/kb/articles", json=BULK_EN, headers=editor)
    assert taken.status_code == 409
    assert count(context, ArticleVersion) == 1


def test_a_missing_article_is_404_and_audited(
    client: TestClient, context: AppContext, agent: dict[str, str], editor: dict[str, str]
) -> None:
    missing = client.get("/api/kb/articles/no-such-article", headers=agent)
    assert missing.status_code == 404
    update = {key: value for key, value in BULK_EN.items() if key != "code"}
    assert (
        client.put("/api/kb/articles/no-such-article", json=update, headers=editor).status_code
        == 404
    )
    outcomes = {
        (entry.action, entry.outcome)
        for entry in audit_entries(context, AuditEntry.object_type == "kb_article")
    }
    assert {("kb.view", "not_found"), ("kb.update", "not_found")} <= outcomes
    assert count(context, Article) == 0


def test_a_search_with_a_control_character_is_refused(
    client: TestClient, agent: dict[str, str]
) -> None:
    refused = client.get("/api/kb/articles", params={"q": "pot\x07hole"}, headers=agent)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "q"
    nul = client.get("/api/kb/articles", params={"q": "pot\x00hole"}, headers=agent)
    assert nul.status_code == 400  # refused by the request layer before any route
    fine = client.get("/api/kb/articles", params={"q": "pothole"}, headers=agent)
    assert fine.status_code == 200 and fine.json()["items"] == []


def test_an_import_whose_languages_disagree_is_refused_whole(
    context: AppContext, editor: dict[str, str]
) -> None:
    rows = [
        ArticleIn.model_validate({**BULK_EN, "code": "leaf-collection"}),
        ArticleIn.model_validate(
            {**BULK_EN, **BULK_ES, "code": "leaf-collection", "department": "Parks"}
        ),
    ]
    try:
        actions.import_articles(context, audit.SYSTEM, rows)
    except Problem as refused:
        assert refused.status == 422
        assert refused.errors == [
            {"field": "department", "message": "differs between the languages of leaf-collection"}
        ]
    else:
        raise AssertionError("an import with disagreeing languages was accepted")
    assert count(context, Article) == 0
    [entry] = audit_entries(context, AuditEntry.action == "kb.import")
    assert entry.outcome == "invalid"
