"""QA forms and evaluations, scored the way contact-center tools score them.

A form has sections of weighted questions: yes/no, or a scale from 0 to its maximum,
either of which may allow N/A. An evaluation earns, for each question answered, its
weight times the share of that question's points it got; the score is earned over
possible weight, N/A questions left out of both. A critical question (always yes/no)
answered "no" fails the whole evaluation: it scores 0, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.platform import ssn
from services.platform.errors import InvalidField
from services.recordings.models import QaEvaluation, QaForm, Recording
from services.staff.models import StaffUser

NA = "na"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str  # "yes_no" or "scale"
    weight: float
    scale_max: int = 1
    critical: bool = False
    allow_na: bool = False


def questions_of(definition: dict[str, Any]) -> list[Question]:
    return [
        Question(**question)
        for section in definition.get("sections", [])
        for question in section.get("questions", [])
    ]


def validate_definition(definition: dict[str, Any]) -> None:
    """InvalidField for a form that cannot be scored."""
    questions = questions_of(definition)
    if not questions:
        raise InvalidField("sections", "a form needs at least one question")
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise InvalidField("sections", f"question id {question.id!r} is used twice")
        seen.add(question.id)
        if question.critical and question.kind != "yes_no":
            raise InvalidField("sections", f"critical question {question.id!r} must be yes/no")
        if question.kind == "scale" and question.scale_max < 1:
            raise InvalidField("sections", f"question {question.id!r} needs a scale maximum")


def create_form_version(
    session: Session, *, name: str, definition: dict[str, Any], created_by: int, now: datetime
) -> QaForm:
    """A new version of the form ``name`` (version 1 if new); older versions retire."""
    validate_definition(definition)
    latest = session.scalar(select(func.max(QaForm.version)).where(QaForm.name == name)) or 0
    for older in session.scalars(
        select(QaForm).where(QaForm.name == name, QaForm.active.is_(True))
    ):
        older.active = False
    form = QaForm(
        name=name,
        version=latest + 1,
        active=True,
        definition=definition,
        created_at=now,
        created_by_id=created_by,
    )
    session.add(form)
    session.flush()
    return form


@dataclass(frozen=True)
class Score:
    earned: float
    possible: float
    score: float
    failed_critical: bool
    failed_questions: list[str]


def score(definition: dict[str, Any], answers: dict[str, Any]) -> Score:
    """Score ``answers`` on a form; InvalidField names a missing or impossible answer."""
    earned = possible = 0.0
    failed: list[str] = []
    for question in questions_of(definition):
        if question.id not in answers:
            raise InvalidField(f"answers.{question.id}", "is not answered")
        answer = answers[question.id]
        if answer == NA:
            if not question.allow_na:
                raise InvalidField(f"answers.{question.id}", "may not be N/A")
            continue
        if question.kind == "yes_no":
            if answer not in ("yes", "no"):
                raise InvalidField(f"answers.{question.id}", "must be yes, no or na")
            share = 1.0 if answer == "yes" else 0.0
            if question.critical and answer == "no":
                failed.append(question.id)
        else:
            if (
                not isinstance(answer, int)
                or isinstance(answer, bool)
                or not 0 <= answer <= question.scale_max
            ):
                raise InvalidField(
                    f"answers.{question.id}", f"must be 0 to {question.scale_max} or na"
                )
            share = answer / question.scale_max
        earned += question.weight * share
        possible += question.weight
    unknown = set(answers) - {question.id for question in questions_of(definition)}
    if unknown:
        raise InvalidField("answers", "holds answers to questions not on the form")
    raw = round(100 * earned / possible, 1) if possible else 0.0
    return Score(round(earned, 3), round(possible, 3), 0.0 if failed else raw, bool(failed), failed)


def evaluate(
    session: Session,
    *,
    recording: Recording,
    form: QaForm,
    agent_id: int,
    evaluator_id: int,
    answers: dict[str, Any],
    comments: list[dict[str, Any]],
    now: datetime,
) -> tuple[QaEvaluation, Score]:
    """Score a recording on a form; comments sit at moments (seconds) in the recording."""
    result = score(form.definition, answers)
    length = recording.duration_seconds or recording.twilio_duration_seconds or 0
    for index, comment in enumerate(comments):
        ssn.refuse(f"comments.{index}.text", comment.get("text"))
        if not 0 <= float(comment.get("at_seconds", 0)) <= max(length, 0) + 1:
            raise InvalidField(f"comments.{index}.at_seconds", "is outside the recording")
    evaluation = QaEvaluation(
        recording_id=recording.id,
        form_id=form.id,
        agent_id=agent_id,
        evaluator_id=evaluator_id,
        answers=answers,
        comments=comments,
        earned_points=result.earned,
        possible_points=result.possible,
        score=result.score,
        failed_critical=result.failed_critical,
        created_at=now,
    )
    session.add(evaluation)
    if recording.agent_id is None:
        recording.agent_id = agent_id
    session.flush()
    return evaluation, result


def list_forms(session: Session, *, include_old: bool = False) -> list[QaForm]:
    """QA forms by name and version: the versions in use, or every version."""
    query = select(QaForm).order_by(QaForm.name, QaForm.version)
    if not include_old:
        query = query.where(QaForm.active.is_(True))
    return list(session.scalars(query))


def list_evaluations(
    session: Session, *, agent_id: int | None = None, agent: str | None = None, limit: int = 200
) -> list[QaEvaluation]:
    """Evaluations newest first, of one agent (by id or username) or of everyone."""
    query = select(QaEvaluation).order_by(QaEvaluation.id.desc()).limit(limit)
    if agent_id is not None:
        query = query.where(QaEvaluation.agent_id == agent_id)
    elif agent is not None:
        query = query.where(
            QaEvaluation.agent_id
            == select(StaffUser.id).where(StaffUser.username == agent.lower()).scalar_subquery()
        )
    return list(session.scalars(query))


def get_evaluation(session: Session, evaluation_id: int) -> QaEvaluation | None:
    return session.get(QaEvaluation, evaluation_id)


def staff_named(session: Session, username: str) -> StaffUser | None:
    """The staff account with ``username`` (case-insensitive), if any."""
    return session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
