"""Call takers file requests, find a caller's earlier ones, and follow them up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.requests import service as requests_service
from services.staff.models import StaffUser
from tests.support import JOSE, Meanwhile, StaffFactory, TwilioClient, audit_entries, echoed


def file(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    response = client.post(
        "/api/requests", json={"service_code": "pothole", **body}, headers=headers
    )
    return response


def test_filing_a_request_with_contact_and_call(
    twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = twilio.ring(From="+13025550133")
    response = file(
        twilio.client,
        agent,
        description="Deep pothole in the bike lane",
        address="400 Market St",
        lat=39.7447,
        long=-75.5484,
        call_sid=sid,
        contact=JOSE,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("SR-") and len(body["id"]) == 14
    assert body["contact"] == {
        "name": "José Álvarez",
        "phone": "+13025550133",
        "email": "jose.alvarez@example.org",
        "address": "12 North Oak Street, Apt. 3",
    }
    assert body["calls"] == [sid]
    assert body["status"] == "open" and body["history"][0]["status"] == "open"
    assert body["created_at"] == "2026-11-18T10:00:00-05:00"
    again = twilio.client.get(f"/api/requests/{body['id']}", headers=agent).json()
    assert again == body


def test_the_schema_marks_what_is_optional(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    contact = schema["ContactIn"]
    assert contact.get("required", []) == []
    assert all("Optional" in field["description"] for field in contact["properties"].values())
    assert schema["RequestIn"]["required"] == ["service_code"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"anonymous": True, "contact": {"name": "Ana"}}, "contact"),
        ({"anonymous": True, "call_sid": "CA" + "0" * 32}, "call_sid"),
        ({"description": "caller gave her SSN 219-09-9999"}, "description"),
        ({"contact": {"name": "Ana 219 09 9999"}}, "contact.name"),
        ({"contact": {"phone": "call me"}}, "contact.phone"),
        ({"contact": {"email": "not-an-email"}}, "contact.email"),
        ({"service_code": "unicorn"}, "service_code"),
        ({"lat": 39.7}, "long"),
        ({"call_sid": "CA" + "0" * 32}, "call_sid"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    body: dict[str, Any], field: str, client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    response = file(client, agent, **body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert "9999" not in echoed(response)
    with context.db() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM service_requests")) == 0


def search(client: TestClient, headers: dict[str, str], **key: str) -> list[str]:
    response = client.post("/api/requests/search", json=key, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_search_by_each_key_in_its_everyday_forms(
    client: TestClient, agent: dict[str, str], clock: ManualClock
) -> None:
    older = file(client, agent, contact=JOSE).json()["id"]
    clock.advance(timedelta(days=3))
    newer = file(
        client,
        agent,
        service_code="missed-trash",
        contact={"name": "jose alvarez", "phone": "302.555.0133"},
    ).json()["id"]
    other = file(
        client,
        agent,
        contact={"name": "Josefina Alvarado", "phone": "+13025550134", "email": "jo@example.org"},
    ).json()["id"]
    assert search(client, agent, phone="+1 302 555 0133") == [newer, older]
    assert search(client, agent, email="  JOSE.ALVAREZ@example.ORG") == [older]
    assert search(client, agent, name="jose alvarez") == [newer, older]
    assert search(client, agent, name="ÁLVAREZ") == [newer, older]
    assert search(client, agent, name="Alvarez Jose") == [newer, older]
    assert search(client, agent, name="Josefina") == [other]
    assert search(client, agent, address="12 n oak st #3") == [older]
    assert search(client, agent, phone="3025550199") == []


def test_a_name_search_starts_from_its_rarest_word_and_still_needs_every_word(
    client: TestClient, agent: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the limit at 2, "maria" (four contacts) and "diaz" (three) are too common to
    # start from and are weighed together; "ruiz" (two), "lopez" and "pedro" are not.
    monkeypatch.setattr(requests_service, "RARE_WORD_LIMIT", 2)
    names = ["Maria Lopez", "Maria Diaz", "Maria Diaz Ruiz", "Maria Ruiz", "Pedro Diaz"]
    filed = {name: file(client, agent, contact={"name": name}).json()["id"] for name in names}

    def found(name: str) -> set[str]:
        return set(search(client, agent, name=name))

    assert found("maria diaz") == {filed["Maria Diaz"], filed["Maria Diaz Ruiz"]}
    assert found("diaz") == {filed["Maria Diaz"], filed["Maria Diaz Ruiz"], filed["Pedro Diaz"]}
    assert found("ruiz maria diaz") == {filed["Maria Diaz Ruiz"]}
    assert found("maria") == {filed[name] for name in names if name.startswith("Maria")}
    assert found("maria lopez") == {filed["Maria Lopez"]}
    assert found("pedro lopez") == set()
    assert found("nobody diaz") == set()


NAMES = [
    "Maria Lopez",
    "Maria Diaz",
    "Maria Diaz Ruiz",
    "Maria Ruiz",
    "Pedro Diaz",
    "Diaz Maria",
    "Ana Maria Diaz",
    "Pedro",
    "Ruiz Ruiz",
    "Ana Lopez Diaz",
]
WORDS = ["maria", "diaz", "ruiz", "pedro", "lopez", "ana", "nobody"]


def _named(context: AppContext, words: list[str]) -> set[int]:
    keyring = context.keyring
    indexes = {keyring.blind_index("name-token", word) for word in words}
    with context.db() as session:
        return set(session.scalars(requests_service.contacts_named(session, indexes)))


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 2_000])
def test_a_name_finds_the_contacts_holding_every_word_whatever_path_it_takes(
    client: TestClient,
    agent: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
) -> None:
    """Every one-, two- and three-word name, its words common or rare (against a limit
    from none to all), finds exactly the contacts whose name holds all its words."""
    filed = [file(client, agent, contact={"name": name}).json()["id"] for name in NAMES]
    with context.db() as session:
        contact_of = dict(
            session.execute(
                sa.text(
                    "SELECT r.public_id, c.id FROM service_requests r "
                    "JOIN request_contacts c ON c.request_id = r.id"
                )
            ).all()
        )
    held = {
        contact_of[public_id]: set(name.lower().split())
        for public_id, name in zip(filed, NAMES, strict=True)
    }
    monkeypatch.setattr(requests_service, "RARE_WORD_LIMIT", limit)
    asked = (
        [[a] for a in WORDS]
        + [[a, b] for a in WORDS for b in WORDS if a < b]
        + [["maria", "diaz", "ruiz"], ["ana", "lopez", "diaz"], ["pedro", "diaz", "nobody"]]
    )
    for words in asked:
        expected = {contact for contact, tokens in held.items() if set(words) <= tokens}
        assert _named(context, words) == expected, words


def test_an_all_common_name_is_found_without_grouping_its_words_entries(
    sqlite_context: AppContext, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every word common: the words' contacts are intersected from the index, which comes
    sorted, rather than grouped and counted in a temporary tree (about half the time at
    a million requests)."""
    monkeypatch.setattr(requests_service, "RARE_WORD_LIMIT", 0)
    keyring = sqlite_context.keyring
    indexes = {keyring.blind_index("name-token", word) for word in ("maria", "diaz")}
    with sqlite_context.db.begin() as session:
        requests_service.create_request(
            session,
            keyring,
            requests_service.NewRequest(
                "pothole", contact=requests_service.ContactDetails(name="Maria Diaz")
            ),
            filed_by=None,
            now=clock.now(),
            region=sqlite_context.region,
            duplicates=requests_service.DuplicatePolicy(),
        )
    with sqlite_context.db() as session:
        assert set(session.scalars(requests_service.contacts_named(session, indexes))) == {1}
        query = requests_service.contacts_named(session, indexes)
        compiled = query.compile(sqlite_context.engine, compile_kwargs={"render_postcompile": True})
        plan = [
            row[3]
            for row in session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())
            )
        ]
    assert not any("GROUP BY" in step for step in plan), plan
    assert any("ix_contact_name_tokens_token_index" in step for step in plan), plan


@pytest.mark.parametrize(
    "body", [{}, {"phone": "1", "email": "a@b.co"}, {"name": "   "}, {"phone": "nope"}]
)
def test_search_needs_exactly_one_usable_key(
    body: dict[str, str], client: TestClient, agent: dict[str, str]
) -> None:
    response = client.post("/api/requests/search", json=body, headers=agent)
    assert response.status_code == 422


def test_searches_are_audited_without_the_term(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    file(client, agent, contact=JOSE)
    search(client, agent, name="José Álvarez")
    search(client, agent, name="jose alvarez")
    entries = audit_entries(context, AuditEntry.action == "requests.search")
    assert [entry.detail["results"] for entry in entries] == [1, 1]
    assert entries[0].detail["term_hash"] == entries[1].detail["term_hash"]
    assert "alvarez" not in repr([entry.detail for entry in entries]).lower()


def test_anonymous_requests_keep_nothing_and_are_never_found(
    twilio: TwilioClient, agent: dict[str, str], context: AppContext, clock: ManualClock
) -> None:
    sid = twilio.ring(From="+13025550133")
    clock.set(clock.now().replace(minute=47, second=13))
    response = file(
        twilio.client,
        agent,
        anonymous=True,
        address="400 Market St",
        description="Neighbor José (302) 555-0133, jose@example.org: dumping again",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["contact"] is None and body["calls"] == [] and body["anonymous"] is True
    assert "555-0133" not in body["description"] and "jose@example.org" not in body["description"]
    assert body["created_at"].endswith("10:00:00-05:00")  # to the hour, not 10:47:13
    for key in (
        {"phone": "3025550133"},
        {"email": "jose@example.org"},
        {"name": "José Álvarez"},
        {"address": "400 Market St"},
    ):
        assert body["id"] not in search(twilio.client, agent, **key)
    with context.db() as session:
        row = session.execute(
            sa.text("SELECT created_by_id, created_at FROM service_requests")
        ).one()
        assert row[0] is None
        assert session.scalar(sa.text("SELECT count(*) FROM request_contacts")) == 0
        assert session.scalar(sa.text("SELECT count(*) FROM request_calls")) == 0
        assert session.scalar(sa.text("SELECT changed_by_id FROM request_status_changes")) is None
        created = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "request.create")
        ).one()
        assert created.object_id is None and created.detail["anonymous"] is True
    pop = twilio.client.get(f"/api/calls/{sid}/screen-pop", headers=agent).json()
    assert pop["items"] == []


def test_status_changes_keep_a_history(
    client: TestClient, agent: dict[str, str], clock: ManualClock
) -> None:
    request_id = file(client, agent, contact=JOSE).json()["id"]
    clock.advance(timedelta(hours=2))
    moved = client.post(
        f"/api/requests/{request_id}/status",
        json={"status": "in_progress", "note": "Crew assigned", "public": True},
        headers=agent,
    )
    assert moved.json()["status_notes"] == "Crew assigned"
    unsaid = client.post(
        f"/api/requests/{request_id}/status",
        json={"status": "in_progress", "note": "Caller sounded upset"},
        headers=agent,
    ).json()
    assert unsaid["status_notes"] == "Crew assigned"  # a note is private unless published
    assert unsaid["history"][-1]["public"] is False
    clock.advance(timedelta(days=1))
    closed = client.post(
        f"/api/requests/{request_id}/status",
        json={"status": "closed", "note": "Internal: used 2 bags", "public": False},
        headers=agent,
    ).json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["status_notes"] == "Crew assigned"  # the private note stays private
    assert [change["status"] for change in closed["history"]] == [
        "open",
        "in_progress",
        "in_progress",
        "closed",
    ]
    bad = client.post(
        f"/api/requests/{request_id}/status",
        json={"status": "closed", "note": "SSN 219-09-9999"},
        headers=agent,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "note"
    assert (
        client.post(
            "/api/requests/SR-22222-22222/status", json={"status": "closed"}, headers=agent
        ).status_code
        == 404
    )


def test_on_an_anonymous_request_the_same_step_within_the_hour_is_refused_whoever_sends_it(
    client: TestClient, agent: dict[str, str], staff: StaffFactory, clock: ManualClock
) -> None:
    """An anonymous request keeps neither who made a step nor its minute: the same step
    again within the hour is taken for a retry; an hour later it is a step of its own."""
    request_id = file(client, agent, anonymous=True).json()["id"]
    step = {"status": "in_progress", "note": "Crew assigned"}
    path = f"/api/requests/{request_id}/status"
    assert client.post(path, json=step, headers=agent).status_code == 200
    other = staff.headers("agent", "bo")
    assert client.post(path, json=step, headers=other).status_code == 409
    clock.advance(timedelta(hours=1))
    assert client.post(path, json=step, headers=other).status_code == 200
    history = client.get(f"/api/requests/{request_id}", headers=agent).json()["history"]
    assert [change["status"] for change in history] == ["open", "in_progress", "in_progress"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_same_change_sent_twice_at_once_is_recorded_once(
    client: TestClient, agent: dict[str, str], context: AppContext
) -> None:
    """PostgreSQL: while one change of status is still being written, the same change
    sent again waits for it, then finds it and is refused."""
    request_id = file(client, agent, contact=JOSE).json()["id"]
    with context.db.begin() as session:
        ana = session.scalar(sa.select(StaffUser.id).where(StaffUser.username == "ana"))
        request = requests_service.get_request(session, request_id, lock=True)
        assert request is not None
        requests_service.change_status(
            session,
            request,
            status="in_progress",
            note="Crew assigned",
            public=True,
            changed_by=ana,
            now=context.clock.now(),
            region=context.region,
        )
        second = Meanwhile(
            lambda: client.post(
                f"/api/requests/{request_id}/status",
                json={"status": "in_progress", "note": "Crew assigned", "public": True},
                headers=agent,
            )
        )
    assert second.waited  # for the first change's transaction
    assert second.answer() == 409
    history = client.get(f"/api/requests/{request_id}", headers=agent).json()["history"]
    assert [step["status"] for step in history] == ["open", "in_progress"]


def test_contact_corrections_are_searchable_at_once(
    client: TestClient, agent: dict[str, str]
) -> None:
    request_id = file(client, agent, contact=JOSE).json()["id"]
    corrected = client.patch(
        f"/api/requests/{request_id}/contact",
        json={"email": "jalvarez@example.org", "clear": ["address"]},
        headers=agent,
    ).json()
    assert corrected["contact"]["email"] == "jalvarez@example.org"
    assert corrected["contact"]["address"] is None
    assert search(client, agent, email="jalvarez@example.org") == [request_id]
    assert search(client, agent, email="jose.alvarez@example.org") == []
    assert search(client, agent, address="12 North Oak Street, Apt. 3") == []
    anonymous = file(client, agent, anonymous=True).json()["id"]
    refused = client.patch(f"/api/requests/{anonymous}/contact", json={"name": "x"}, headers=agent)
    assert refused.status_code == 409


def test_possible_duplicates_are_flagged(
    client: TestClient, agent: dict[str, str], clock: ManualClock
) -> None:
    first = file(client, agent, address="400 Market Street", lat=39.74470, long=-75.54840).json()[
        "id"
    ]
    clock.advance(timedelta(hours=5))
    by_place = file(client, agent, lat=39.74480, long=-75.54845).json()  # about 12 m away
    by_address = file(client, agent, address="400 market st").json()
    elsewhere = file(client, agent, lat=39.7600, long=-75.5400).json()
    other_service = file(client, agent, service_code="graffiti", address="400 Market St").json()
    assert by_place["possible_duplicates"] == [first]
    assert first in by_address["possible_duplicates"]
    assert elsewhere["possible_duplicates"] == []
    assert other_service["possible_duplicates"] == []
    clock.advance(timedelta(days=4))
    assert file(client, agent, address="400 Market St").json()["possible_duplicates"] == []


def test_screen_pop_shows_the_callers_earlier_requests(
    twilio: TwilioClient, agent: dict[str, str], context: AppContext
) -> None:
    earlier = file(twilio.client, agent, contact={"phone": "302-555-0133", "name": "Jose"}).json()[
        "id"
    ]
    ringing = twilio.ring(From="+13025550133")
    pop = twilio.client.get(f"/api/calls/{ringing}/screen-pop", headers=agent).json()
    assert (pop["caller_withheld"], [item["id"] for item in pop["items"]]) == (False, [earlier])
    hidden = twilio.ring(From="anonymous")
    assert twilio.client.get(f"/api/calls/{hidden}/screen-pop", headers=agent).json() == {
        "call_sid": hidden,
        "caller_withheld": True,
        "items": [],
    }
    assert (
        twilio.client.get(f"/api/calls/CA{'1' * 32}/screen-pop", headers=agent).status_code == 404
    )


def test_the_catalogue_is_seeded_and_administrators_edit_it(
    client: TestClient, agent: dict[str, str], staff: StaffFactory
) -> None:
    codes = [item["code"] for item in client.get("/api/services", headers=agent).json()["items"]]
    assert {"pothole", "bulk-pickup", "missed-trash", "streetlight"} <= set(codes)
    admin = staff.headers("admin", "root")
    added = client.post(
        "/api/services",
        json={
            "code": "snow-removal",
            "name": "Snow removal",
            "department": "Public Works",
            "group": "Streets",
            "keywords": ["snow", "ice"],
        },
        headers=admin,
    )
    assert added.status_code == 201
    retired = client.patch("/api/services/graffiti", json={"active": False}, headers=admin)
    assert retired.json()["active"] is False
    codes = [item["code"] for item in client.get("/api/services", headers=agent).json()["items"]]
    assert "snow-removal" in codes and "graffiti" not in codes
    assert file(client, agent, service_code="graffiti").status_code == 422
    assert client.post("/api/services", json={"code": "x"}, headers=agent).status_code == 403


def test_no_two_features_name_a_schema_alike(client: TestClient) -> None:
    # FastAPI renames clashing models after their modules (services__x__schemas__Name),
    # which silently changes every integrator's generated client: each name is one model.
    names = client.get("/openapi.json").json()["components"]["schemas"]
    assert [name for name in names if "__" in name] == []
