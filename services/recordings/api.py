"""Staff API: recordings for supervisors, playback with Range, pausing, QA forms and
evaluations. (Whether an extension records its calls is the directory's.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import AppContext, ContextDep
from services.platform.errors import InvalidField, NotFound, Problem
from services.platform.params import MAX_ROW_ID, CallSid, RecordingSid, RowId
from services.recordings import qa
from services.recordings import service as recordings
from services.recordings.models import QaEvaluation, QaForm, Recording
from services.recordings.source import MediaUnavailable
from services.staff import service as accounts
from services.staff.models import StaffUser

router = APIRouter(tags=["recordings"])
STREAM_PIECE = 256 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RecordingOut(BaseModel):
    recording_sid: str
    call_sid: str
    kind: str
    state: str
    failure: str | None
    twilio_status: str
    error_code: str | None
    extension: str | None
    agent: str | None
    started_at: datetime
    duration_seconds: float | None
    channels: int
    talk: dict[str, dict[str, float | None]]
    compression_ratio: float | None
    playable: bool
    twilio_copy_deleted: bool


class RecordingDetail(RecordingOut):
    activity: dict[str, list[int]]
    evaluations: list[int]


class RecordingPage(BaseModel):
    items: list[RecordingOut]
    next_before_id: int | None


class RecordingFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime | None = None
    until: datetime | None = None
    extension: str | None = Field(default=None, pattern=r"^[0-9]{1,8}$")
    agent: str | None = Field(default=None, max_length=64)
    min_seconds: float | None = Field(default=None, ge=0, le=86_400)
    max_seconds: float | None = Field(default=None, ge=0, le=86_400)
    qa_status: Literal["unscored", "scored", "failed_critical"] | None = None
    state: Literal["logged", "pending", "verified", "done", "failed", "absent"] | None = None
    before_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    limit: int = Field(default=50, ge=1, le=200)


def _out(context: AppContext, recording: Recording, agents: dict[int, str]) -> dict[str, Any]:
    return {
        "recording_sid": recording.recording_sid,
        "call_sid": recording.call_sid,
        "kind": recording.kind,
        "state": recording.state,
        "failure": recording.failure,
        "twilio_status": recording.twilio_status,
        "error_code": recording.error_code,
        "extension": recording.extension,
        "agent": agents.get(recording.agent_id) if recording.agent_id else None,
        "started_at": recording.started_at.astimezone(context.city_tz),
        "duration_seconds": recording.duration_seconds,
        "channels": recording.channels,
        "talk": {
            "caller": {
                "talk_seconds": recording.caller_talk_seconds,
                "silence_seconds": recording.caller_silence_seconds,
            },
            "agent": {
                "talk_seconds": recording.agent_talk_seconds,
                "silence_seconds": recording.agent_silence_seconds,
            },
        },
        "compression_ratio": (
            round(recording.original_bytes / recording.audio_bytes, 1)
            if recording.original_bytes and recording.audio_bytes
            else None
        ),
        "playable": recording.wrapped_key is not None and recording.blob_key is not None,
        "twilio_copy_deleted": recording.twilio_deleted_at is not None,
    }


@router.get("/api/recordings", response_model=RecordingPage)
def list_recordings(
    staff: Annotated[Staff, Depends(require(Permission.RECORDINGS_READ))],
    context: ContextDep,
    filters: Annotated[RecordingFilters, Query()],
) -> RecordingPage:
    """Recordings newest first: by date, extension, agent, duration, QA status, state."""
    with context.db.begin() as session:
        found = recordings.list_recordings(
            session, recordings.RecordingFilter(**filters.model_dump())
        )
        audit.record(
            session,
            actor=staff.actor,
            action="recordings.list",
            at=context.clock.now(),
            object_type="recording",
            detail={"results": len(found)},
        )
        agents = accounts.usernames(session, {r.agent_id for r in found if r.agent_id})
        return RecordingPage(
            items=[RecordingOut(**_out(context, r, agents)) for r in found],
            next_before_id=found[-1].id if len(found) == filters.limit else None,
        )


@router.get("/api/recordings/{recording_sid}", response_model=RecordingDetail)
def read_recording(
    recording_sid: RecordingSid,
    staff: Annotated[Staff, Depends(require(Permission.RECORDINGS_READ))],
    context: ContextDep,
) -> RecordingDetail:
    """One recording with its talk/silence profile per channel and its evaluations."""
    with context.db.begin() as session:
        recording = recordings.get_recording(session, recording_sid)
        if recording is None:
            raise NotFound("recording")
        evaluations = list(
            session.scalars(
                select(QaEvaluation.id).where(QaEvaluation.recording_id == recording.id)
            )
        )
        audit.record(
            session,
            actor=staff.actor,
            action="recording.view",
            at=context.clock.now(),
            object_type="recording",
            object_id=recording_sid,
        )
        body = _out(
            context,
            recording,
            accounts.usernames(session, {recording.agent_id} if recording.agent_id else set()),
        )
        return RecordingDetail(
            **body, activity=dict(recording.activity or {}), evaluations=evaluations
        )


def _parse_range(header: str | None, total: int) -> tuple[int, int] | None:
    """The single byte range asked for, or None for the whole file. ValueError: unsatisfiable."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None  # several ranges or nonsense: answer with the whole file
    if not match[1]:
        length = int(match[2])
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, total - length), total - 1
    start = int(match[1])
    end = int(match[2]) if match[2] else total - 1
    if start >= total or end < start:
        raise ValueError("range outside the audio")
    return start, min(end, total - 1)


@router.get(
    "/api/recordings/{recording_sid}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}}}, 206: {"content": {"audio/ogg": {}}}, 416: {}},
)
def play_recording(
    recording_sid: RecordingSid,
    request: Request,
    staff: Annotated[Staff, Depends(require(Permission.RECORDINGS_PLAY))],
    context: ContextDep,
    download: Annotated[bool, Query()] = False,
) -> Response:
    """The audio, decrypted as it streams, with HTTP Range so the player can seek.
    Every playback and download is audited."""
    with context.db.begin() as session:
        recording = recordings.get_recording(session, recording_sid)
        if recording is None:
            raise NotFound("recording")
        total = recording.audio_bytes or 0
        if recording.wrapped_key is None or recording.blob_key is None or not total:
            raise Problem(
                409,
                "Not playable yet",
                f"The recording is {recording.state}; there is no audio to play.",
            )
        try:
            wanted = _parse_range(request.headers.get("range"), total)
        except ValueError:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{total}"})
        start, end = wanted if wanted is not None else (0, total - 1)
        audit.record(
            session,
            actor=staff.actor,
            action="recording.download" if download else "recording.play",
            at=context.clock.now(),
            object_type="recording",
            object_id=recording_sid,
            detail={"first_byte": start, "last_byte": end},
        )
        session.expunge(recording)

    def pieces() -> Iterator[bytes]:
        for offset in range(start, end + 1, STREAM_PIECE):
            last = min(offset + STREAM_PIECE - 1, end)
            yield recordings.read_audio(
                recording, context.blobs, context.keyring.master, start=offset, end=last
            ).data

    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{total}"
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{recording_sid}.ogg"'
    return StreamingResponse(
        pieces(),
        status_code=206 if wanted is not None else 200,
        media_type=recording.content_type or "audio/ogg",
        headers=headers,
    )


class RecordingControl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["pause", "resume"]


@router.post("/api/calls/{call_sid}/recording", status_code=204)
def control_recording(
    call_sid: CallSid,
    body: RecordingControl,
    staff: Annotated[Staff, Depends(require(Permission.RECORDING_CONTROL))],
    context: ContextDep,
) -> Response:
    """Pause recording while a caller reads out a card number or the like; resume after."""
    source = context.part(recordings.RecordingPolicy).source
    if source is None:
        raise Problem(
            503,
            "Twilio is not configured",
            "Recording cannot be paused without Twilio credentials.",
        )
    failure = ""
    try:
        source.set_paused(call_sid, body.action == "pause")
        outcome = "ok"
    except MediaUnavailable as exc:
        outcome = "failed"
        failure = str(exc)
    with context.db.begin() as session:
        audit.record(
            session,
            actor=staff.actor,
            action=f"recording.{body.action}",
            at=context.clock.now(),
            outcome=outcome,
            object_type="call",
            object_id=call_sid,
        )
    if outcome != "ok":
        raise Problem(502, "Twilio did not take the change", failure)
    return Response(status_code=204)


# -- QA ------------------------------------------------------------------------------


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    text: str = Field(min_length=3, max_length=300)
    kind: Literal["yes_no", "scale"]
    weight: float = Field(gt=0, le=100)
    scale_max: int = Field(default=1, ge=1, le=10)
    critical: bool = False
    allow_na: bool = False


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=120)
    questions: list[QuestionIn] = Field(min_length=1, max_length=50)


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=120)
    sections: list[SectionIn] = Field(min_length=1, max_length=20)


class FormOut(BaseModel):
    id: int
    name: str
    version: int
    active: bool
    sections: list[SectionIn]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_seconds: float = Field(ge=0, le=86_400)
    text: str = Field(min_length=1, max_length=1000)


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form_id: int = Field(ge=1, le=MAX_ROW_ID)
    agent: str = Field(
        min_length=2, max_length=64, description="The username of the agent evaluated"
    )
    answers: dict[str, Literal["yes", "no", "na"] | int]
    comments: list[CommentIn] = Field(default_factory=list, max_length=100)


class EvaluationOut(BaseModel):
    id: int
    recording_sid: str
    form_id: int
    form_name: str
    form_version: int
    agent: str
    evaluator: str
    answers: dict[str, Any]
    comments: list[CommentIn]
    earned_points: float
    possible_points: float
    score: float
    failed_critical: bool
    created_at: datetime


def _form_out(form: QaForm) -> FormOut:
    return FormOut(
        id=form.id,
        name=form.name,
        version=form.version,
        active=form.active,
        sections=form.definition["sections"],
    )


@router.post("/api/qa/forms", status_code=201, response_model=FormOut)
def create_form(
    body: FormIn,
    staff: Annotated[Staff, Depends(require(Permission.QA_FORMS_MANAGE))],
    context: ContextDep,
) -> FormOut:
    """A new QA form, or a new version of one (same name); old evaluations keep theirs."""
    now = context.clock.now()
    with context.db.begin() as session:
        form = qa.create_form_version(
            session,
            name=body.name,
            definition={"sections": [s.model_dump() for s in body.sections]},
            created_by=staff.user_id,
            now=now,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="qa.form_version",
            at=now,
            object_type="qa_form",
            object_id=str(form.id),
            detail={"version": form.version},
        )
        return _form_out(form)


@router.get("/api/qa/forms", response_model=list[FormOut])
def list_forms(
    staff: Annotated[Staff, Depends(require(Permission.QA_OWN_READ))],
    context: ContextDep,
    include_old: Annotated[bool, Query()] = False,
) -> list[FormOut]:
    """The QA forms in use (and their old versions, if asked)."""
    with context.db() as session:
        query = select(QaForm).order_by(QaForm.name, QaForm.version)
        if not include_old:
            query = query.where(QaForm.active.is_(True))
        return [_form_out(form) for form in session.scalars(query)]


def _evaluation_out(session: Any, evaluation: QaEvaluation) -> EvaluationOut:
    form = session.get(QaForm, evaluation.form_id)
    recording = session.get(Recording, evaluation.recording_id)
    names = dict(
        session.execute(
            select(StaffUser.id, StaffUser.username).where(
                StaffUser.id.in_({evaluation.agent_id, evaluation.evaluator_id})
            )
        ).all()
    )
    return EvaluationOut(
        id=evaluation.id,
        recording_sid=recording.recording_sid,
        form_id=form.id,
        form_name=form.name,
        form_version=form.version,
        agent=names[evaluation.agent_id],
        evaluator=names[evaluation.evaluator_id],
        answers=evaluation.answers,
        comments=[CommentIn(**c) for c in evaluation.comments],
        earned_points=evaluation.earned_points,
        possible_points=evaluation.possible_points,
        score=evaluation.score,
        failed_critical=evaluation.failed_critical,
        created_at=evaluation.created_at,
    )


@router.post(
    "/api/recordings/{recording_sid}/evaluations", status_code=201, response_model=EvaluationOut
)
def evaluate_recording(
    recording_sid: RecordingSid,
    body: EvaluationIn,
    staff: Annotated[Staff, Depends(require(Permission.QA_EVALUATE))],
    context: ContextDep,
) -> EvaluationOut:
    """Score a recording on a QA form, with comments at moments in the recording."""
    now = context.clock.now()
    with context.db.begin() as session:
        recording = recordings.get_recording(session, recording_sid)
        if recording is None:
            raise NotFound("recording")
        form = session.get(QaForm, body.form_id)
        if form is None:
            raise InvalidField("form_id", "is not a QA form")
        agent = session.scalar(select(StaffUser).where(StaffUser.username == body.agent.lower()))
        if agent is None:
            raise InvalidField("agent", "is not a staff account")
        evaluation, result = qa.evaluate(
            session,
            recording=recording,
            form=form,
            agent_id=agent.id,
            evaluator_id=staff.user_id,
            answers=body.answers,
            comments=[c.model_dump() for c in body.comments],
            now=now,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="qa.evaluate",
            at=now,
            object_type="recording",
            object_id=recording_sid,
            detail={"evaluation_id": evaluation.id, "score": result.score},
        )
        return _evaluation_out(session, evaluation)


@router.get("/api/qa/evaluations", response_model=list[EvaluationOut])
def list_evaluations(
    staff: Annotated[Staff, Depends(require(Permission.QA_OWN_READ))],
    context: ContextDep,
    agent: Annotated[str | None, Query(max_length=64)] = None,
) -> list[EvaluationOut]:
    """Evaluations, newest first. Agents see only their own."""
    with context.db.begin() as session:
        query = select(QaEvaluation).order_by(QaEvaluation.id.desc()).limit(200)
        if not staff.may(Permission.QA_EVALUATE):
            query = query.where(QaEvaluation.agent_id == staff.user_id)
        elif agent is not None:
            query = query.where(
                QaEvaluation.agent_id
                == select(StaffUser.id).where(StaffUser.username == agent.lower()).scalar_subquery()
            )
        found = [_evaluation_out(session, evaluation) for evaluation in session.scalars(query)]
        audit.record(
            session,
            actor=staff.actor,
            action="qa.evaluations_list",
            at=context.clock.now(),
            object_type="qa_evaluation",
            detail={"results": len(found)},
        )
        return found


@router.get("/api/qa/evaluations/{evaluation_id}", response_model=EvaluationOut)
def read_evaluation(
    evaluation_id: RowId,
    staff: Annotated[Staff, Depends(require(Permission.QA_OWN_READ))],
    context: ContextDep,
) -> EvaluationOut:
    """One evaluation: an agent may read only their own."""
    with context.db.begin() as session:
        evaluation = session.get(QaEvaluation, evaluation_id)
        mine = evaluation is not None and evaluation.agent_id == staff.user_id
        if evaluation is None or not (mine or staff.may(Permission.QA_EVALUATE)):
            raise NotFound("evaluation")
        return _evaluation_out(session, evaluation)
