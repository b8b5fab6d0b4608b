"""QA forms and evaluations: weighted scores, N/A, critical questions, versions, and
agents seeing only their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.recordings.models import Recording
from tests.support import StaffFactory, audit_entries, stored_recording

FORM = {
    "name": "Call quality",
    "sections": [
        {
            "title": "Opening",
            "questions": [
                {
                    "id": "greeting",
                    "text": "Greeted the caller and gave their name",
                    "kind": "yes_no",
                    "weight": 1,
                },
                {
                    "id": "notice",
                    "text": "Offered the anonymous option when asked",
                    "kind": "yes_no",
                    "weight": 2,
                    "allow_na": True,
                },
            ],
        },
        {
            "title": "Handling",
            "questions": [
                {
                    "id": "accuracy",
                    "text": "Recorded the request accurately",
                    "kind": "scale",
                    "scale_max": 4,
                    "weight": 3,
                },
                {
                    "id": "no_ssn",
                    "text": "Did not ask for a Social Security number",
                    "kind": "yes_no",
                    "weight": 1,
                    "critical": True,
                },
            ],
        },
    ],
}


@pytest.fixture
def recording_sid(context: AppContext) -> str:
    return stored_recording(
        context,
        "CA" + "b" * 32,
        "RE" + "a" * 32,
        twilio_duration_seconds=300,
        duration_seconds=290.0,
        attempts=1,
    )


# A good call: the optional question not applicable, 85% in all.
ANSWERS = {"greeting": "yes", "notice": "na", "accuracy": 3, "no_ssn": "yes"}


@pytest.fixture
def form(client: TestClient, supervisor: dict[str, str]) -> dict[str, Any]:
    """FORM, created by the supervisor."""
    created: dict[str, Any] = client.post("/api/qa/forms", json=FORM, headers=supervisor).json()
    return created


Evaluate = Callable[..., httpx.Response]


@pytest.fixture
def evaluate(
    client: TestClient, supervisor: dict[str, str], recording_sid: str, form: dict[str, Any]
) -> Evaluate:
    """Scores an agent on the recording with the form: ana, with ANSWERS, by the
    supervisor, unless told otherwise."""

    def post(
        answers: dict[str, Any] = ANSWERS,
        *,
        headers: dict[str, str] = supervisor,
        agent: str = "ana",
        **extra: Any,
    ) -> httpx.Response:
        body = {"form_id": form["id"], "agent": agent, "answers": answers, **extra}
        return client.post(
            f"/api/recordings/{recording_sid}/evaluations", json=body, headers=headers
        )

    return post


def test_weighted_scores_na_and_critical_failures(
    staff: StaffFactory, form: dict[str, Any], evaluate: Evaluate
) -> None:
    staff.token("agent", "ana")
    assert (form["version"], form["active"]) == (1, True)
    good = evaluate(comments=[{"at_seconds": 42.5, "text": "Good recap of the address"}]).json()
    # (1*1 + 3*3/4 + 1*1) / (1 + 3 + 1): N/A leaves "notice" out of both
    assert (good["earned_points"], good["possible_points"], good["score"]) == (4.25, 5.0, 85.0)
    assert good["failed_critical"] is False and good["comments"][0]["at_seconds"] == 42.5
    failed = evaluate({"greeting": "yes", "notice": "yes", "accuracy": 4, "no_ssn": "no"}).json()
    assert (failed["score"], failed["failed_critical"]) == (0.0, True)


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"greeting": "yes", "notice": "na", "accuracy": 3}, "answers.no_ssn"),
        ({"greeting": "na", "notice": "na", "accuracy": 3, "no_ssn": "yes"}, "answers.greeting"),
        ({"greeting": "yes", "notice": "na", "accuracy": 9, "no_ssn": "yes"}, "answers.accuracy"),
        (
            {"greeting": "yes", "notice": "na", "accuracy": 2, "no_ssn": "yes", "extra": "yes"},
            "answers",
        ),
    ],
)
def test_impossible_answers_name_the_question(
    answers: dict[str, Any], field: str, staff: StaffFactory, evaluate: Evaluate
) -> None:
    staff.token("agent", "ana")
    response = evaluate(answers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_comments_refuse_ssns_and_stay_inside_the_recording(
    staff: StaffFactory, evaluate: Evaluate
) -> None:
    staff.token("agent", "ana")
    ssn = evaluate(comments=[{"at_seconds": 5, "text": "caller said 219-09-9999"}])
    assert ssn.status_code == 422 and ssn.json()["errors"][0]["field"] == "comments.0.text"
    late = evaluate(comments=[{"at_seconds": 4000, "text": "x"}])
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "comments.0.at_seconds"


def test_a_new_version_leaves_old_evaluations_on_the_old_form(
    client: TestClient, staff: StaffFactory, supervisor: dict[str, str], evaluate: Evaluate
) -> None:
    staff.token("agent", "ana")
    old = evaluate().json()
    changed = {**FORM, "sections": FORM["sections"][:1]}
    second = client.post("/api/qa/forms", json=changed, headers=supervisor).json()
    assert second["version"] == 2
    active = client.get("/api/qa/forms", headers=supervisor).json()
    assert [(f["name"], f["version"]) for f in active] == [("Call quality", 2)]
    again = client.get(f"/api/qa/evaluations/{old['id']}", headers=supervisor).json()
    assert (again["form_version"], again["score"]) == (1, 85.0)


def test_agents_see_only_their_own_evaluations(
    client: TestClient,
    staff: StaffFactory,
    recording_sid: str,
    context: AppContext,
    supervisor: dict[str, str],
    evaluate: Evaluate,
) -> None:
    ana, ben = staff.headers("agent", "ana"), staff.headers("agent", "ben")
    mine = evaluate().json()
    theirs = evaluate(agent="ben").json()
    assert [e["id"] for e in client.get("/api/qa/evaluations", headers=ana).json()] == [mine["id"]]
    assert [
        e["id"]
        for e in client.get("/api/qa/evaluations", params={"agent": "ben"}, headers=ana).json()
    ] == [mine["id"]]
    assert client.get(f"/api/qa/evaluations/{theirs['id']}", headers=ana).status_code == 404
    assert client.get(f"/api/qa/evaluations/{theirs['id']}", headers=ben).status_code == 200
    assert len(client.get("/api/qa/evaluations", headers=supervisor).json()) == 2
    assert evaluate(headers=ana).status_code == 403
    with context.db() as session:
        agent_id = session.scalar(sa.select(Recording.agent_id))
    assert agent_id is not None  # the recording now names its agent, for filtering
    listed = client.get(
        "/api/recordings", params={"agent": "ana", "qa_status": "scored"}, headers=supervisor
    ).json()
    assert [item["recording_sid"] for item in listed["items"]] == [recording_sid]


def test_reading_an_evaluation_is_audited_and_another_agents_is_a_miss(
    client: TestClient,
    staff: StaffFactory,
    context: AppContext,
    supervisor: dict[str, str],
    evaluate: Evaluate,
) -> None:
    ana, ben = staff.headers("agent", "ana"), staff.headers("agent", "ben")
    anas = evaluate().json()
    own = client.get(f"/api/qa/evaluations/{anas['id']}", headers=ana)
    assert own.status_code == 200
    refused = client.get(f"/api/qa/evaluations/{anas['id']}", headers=ben)
    assert refused.status_code == 404
    read = client.get(f"/api/qa/evaluations/{anas['id']}", headers=supervisor)
    assert read.status_code == 200
    entries = audit_entries(context, AuditEntry.action == "qa.evaluation_view")
    assert [(e.actor_name, e.outcome) for e in entries] == [
        ("ana", "ok"),
        ("ben", "not_found"),
        ("sam", "ok"),
    ]
    assert {e.object_type for e in entries} == {"qa_evaluation"}
    assert {e.object_id for e in entries} == {str(anas["id"])}
    assert entries[1].request_id == refused.json()["request_id"]
    assert entries[1].detail == {"another_agents": True, "status": 404}
    assert entries[0].detail == {}
