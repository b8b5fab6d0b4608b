"""Staff API: recordings for supervisors, playback with Range, pausing, QA forms and
evaluations: routes that parse, call the action, and return its answer. (Whether an
extension records its calls is the directory's.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.platform.auth import (
    Evaluator,
    OwnScoreReader,
    QaFormEditor,
    RecordingController,
    RecordingListener,
    RecordingReader,
)
from services.platform.context import ContextDep
from services.platform.params import CallSid, RecordingSid, RowId
from services.recordings import actions
from services.recordings.schemas import (
    EvaluationIn,
    EvaluationOut,
    FormIn,
    FormOut,
    RecordingControl,
    RecordingDetail,
    RecordingFilters,
    RecordingPage,
)

router = APIRouter(tags=["recordings"])


@router.get("/api/recordings", response_model=RecordingPage)
def list_recordings(
    staff: RecordingReader, context: ContextDep, filters: Annotated[RecordingFilters, Query()]
) -> RecordingPage:
    """Recordings newest first: by date, extension, agent, duration, QA status, state."""
    return actions.list_recordings(context, staff.actor, filters)


@router.get("/api/recordings/{recording_sid}", response_model=RecordingDetail)
def read_recording(
    recording_sid: RecordingSid, staff: RecordingReader, context: ContextDep
) -> RecordingDetail:
    """One recording with its talk/silence profile per channel and its evaluations."""
    return actions.read_recording(context, staff.actor, recording_sid)


@router.get(
    "/api/recordings/{recording_sid}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}}}, 206: {"content": {"audio/ogg": {}}}, 416: {}},
)
def play_recording(
    recording_sid: RecordingSid,
    request: Request,
    staff: RecordingListener,
    context: ContextDep,
    download: Annotated[bool, Query()] = False,
) -> Response:
    """The audio, decrypted as it streams, with HTTP Range so the player can seek.
    Every playback and download is audited before the first byte is sent."""
    playback = actions.play_recording(
        context,
        staff.actor,
        recording_sid,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        download=download,
    )
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": playback.etag,
        "Content-Length": str(playback.end - playback.start + 1),
    }
    if playback.partial:
        headers["Content-Range"] = f"bytes {playback.start}-{playback.end}/{playback.total}"
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{recording_sid}.ogg"'
    return StreamingResponse(
        actions.audio_pieces(context, playback),
        status_code=206 if playback.partial else 200,
        media_type=playback.content_type,
        headers=headers,
    )


@router.post("/api/calls/{call_sid}/recording", status_code=204)
def control_recording(
    call_sid: CallSid, body: RecordingControl, staff: RecordingController, context: ContextDep
) -> Response:
    """Pause recording while a caller reads out a card number or the like; resume after."""
    actions.control_recording(context, staff.actor, call_sid, action=body.action)
    return Response(status_code=204)


# -- QA ------------------------------------------------------------------------------


@router.post("/api/qa/forms", status_code=201, response_model=FormOut)
def create_form(body: FormIn, staff: QaFormEditor, context: ContextDep) -> FormOut:
    """A new QA form, or a new version of one (same name); old evaluations keep theirs."""
    return actions.create_form(context, staff.actor, body)


@router.get("/api/qa/forms", response_model=list[FormOut])
def list_forms(
    staff: OwnScoreReader, context: ContextDep, include_old: Annotated[bool, Query()] = False
) -> list[FormOut]:
    """The QA forms in use (and their old versions, if asked)."""
    return actions.list_forms(context, include_old=include_old)


@router.post(
    "/api/recordings/{recording_sid}/evaluations", status_code=201, response_model=EvaluationOut
)
def evaluate_recording(
    recording_sid: RecordingSid, body: EvaluationIn, staff: Evaluator, context: ContextDep
) -> EvaluationOut:
    """Score a recording on a QA form, with comments at moments in the recording."""
    return actions.evaluate_recording(context, staff.actor, recording_sid, body)


@router.get("/api/qa/evaluations", response_model=list[EvaluationOut])
def list_evaluations(
    staff: OwnScoreReader,
    context: ContextDep,
    agent: Annotated[str | None, Query(max_length=64)] = None,
) -> list[EvaluationOut]:
    """Evaluations, newest first. Agents see only their own."""
    return actions.list_evaluations(context, staff.actor, agent=agent)


@router.get("/api/qa/evaluations/{evaluation_id}", response_model=EvaluationOut)
def read_evaluation(
    evaluation_id: RowId, staff: OwnScoreReader, context: ContextDep
) -> EvaluationOut:
    """One evaluation: an agent may read only their own."""
    return actions.read_evaluation(context, staff.actor, evaluation_id)
