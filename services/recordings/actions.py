"""Recordings and QA, one function per use case: each opens its unit of work, does the
work through the services, and leaves its audit entry (also for a miss or a refusal).
The staff API and the console call these; none of them opens a transaction or writes an
audit entry for a recording or an evaluation itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from services.calls.service import get_call
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.auth import Permission, allows
from services.platform.context import AppContext
from services.platform.errors import InvalidField, NotFound, Problem, existing
from services.platform.resources import resource
from services.platform.roles import Role
from services.recordings import qa
from services.recordings import service as recordings
from services.recordings.models import QaEvaluation, QaForm, Recording
from services.recordings.schemas import (
    CommentIn,
    EvaluationIn,
    EvaluationOut,
    FormIn,
    FormOut,
    RecordingDetail,
    RecordingFilters,
    RecordingOut,
    RecordingPage,
)
from services.recordings.source import MediaUnavailable
from services.staff import service as accounts
from services.staff.models import StaffUser

STREAM_PIECE = 256 * 1024


def _found(session: Session, recording_sid: str) -> Recording:
    return existing(recordings.get_recording(session, recording_sid), "recording")


def _staff_id(actor: Actor) -> int:
    """The acting staff member's id; QA work is always someone's."""
    if actor.user_id is None:
        raise Problem(403, "Forbidden", "Only a staff member may do this.")
    return actor.user_id


def _sees_every_agent(actor: Actor) -> bool:
    """Evaluators see every agent's evaluations; agents only their own."""
    return actor.role is not None and allows(Role(actor.role), Permission.QA_EVALUATE)


# -- recordings ------------------------------------------------------------------------


def list_recordings(context: AppContext, actor: Actor, filters: RecordingFilters) -> RecordingPage:
    """Recordings newest first: by date, extension, agent, duration, QA status, state."""
    with unit_of_work(context, actor, "recordings.list", object_type="recording") as work:
        found = recordings.list_recordings(
            work.session, recordings.RecordingFilter(**filters.model_dump())
        )
        work.note(results=len(found))
        agents = accounts.usernames(work.session, {r.agent_id for r in found if r.agent_id})
        return RecordingPage(
            items=[RecordingOut.of(r, agents, context.city_tz) for r in found],
            next_before_id=found[-1].id if len(found) == filters.limit else None,
        )


def read_recording(context: AppContext, actor: Actor, recording_sid: str) -> RecordingDetail:
    """One recording with its talk/silence profile per channel and its evaluations."""
    with unit_of_work(
        context, actor, "recording.view", object_type="recording", object_id=recording_sid
    ) as work:
        recording = _found(work.session, recording_sid)
        agents = accounts.usernames(
            work.session, {recording.agent_id} if recording.agent_id else set()
        )
        return RecordingDetail(
            **RecordingOut.of(recording, agents, context.city_tz).model_dump(),
            activity=dict(recording.activity or {}),
            evaluations=recordings.evaluation_ids(work.session, recording),
        )


@dataclass(frozen=True)
class Playback:
    """What an audited playback may stream: bytes ``start``..``end`` of ``total``."""

    recording: Recording  # read in the playback's unit of work, detached since
    start: int
    end: int
    total: int
    partial: bool  # a Range was asked for and is answered
    content_type: str
    etag: str  # the audio's validator, for If-Range


def play_recording(
    context: AppContext,
    actor: Actor,
    recording_sid: str,
    *,
    range_header: str | None,
    if_range: str | None = None,
    download: bool = False,
) -> Playback:
    """Allow one playback (or download) of a recording's audio, or the single byte range
    ``range_header`` asks for; a range under an ``if_range`` that no longer names this
    audio is ignored, and the whole file sent. The playback is audited before a byte is
    streamed.

    NotFound for no such recording; 409 when it has no audio yet; 416 (with the
    Content-Range the client needs) for a range outside the audio."""
    action = "recording.download" if download else "recording.play"
    with unit_of_work(
        context, actor, action, object_type="recording", object_id=recording_sid
    ) as work:
        recording = _found(work.session, recording_sid)
        total = recording.audio_bytes or 0
        if recording.wrapped_key is None or recording.blob_key is None or not total:
            raise Problem(
                409,
                "Not playable yet",
                f"The recording is {recording.state}; there is no audio to play.",
            )
        etag = recordings.audio_etag(recording)
        if not recordings.range_still_valid(if_range, etag):
            range_header = None
        try:
            wanted = recordings.byte_range(range_header, total)
        except ValueError:
            raise Problem(
                416,
                "Range not satisfiable",
                "The range asked for lies outside the audio.",
                headers={"Content-Range": f"bytes */{total}"},
            ) from None
        start, end = wanted if wanted is not None else (0, total - 1)
        work.note(first_byte=start, last_byte=end)
        return Playback(
            recording=recording,
            start=start,
            end=end,
            total=total,
            partial=wanted is not None,
            content_type=recording.content_type or "audio/ogg",
            etag=etag,
        )


def audio_pieces(context: AppContext, playback: Playback) -> Iterator[bytes]:
    """The audio of an audited playback, decrypted a piece at a time as it streams."""
    for offset in range(playback.start, playback.end + 1, STREAM_PIECE):
        last = min(offset + STREAM_PIECE - 1, playback.end)
        yield recordings.read_audio(
            playback.recording, context.blobs, context.keyring.master, start=offset, end=last
        ).data


def control_recording(
    context: AppContext, actor: Actor, call_sid: str, *, action: Literal["pause", "resume"]
) -> None:
    """Pause a live call's recording while the caller reads out a card number or the
    like, or resume it. 503 without Twilio credentials; 502 when Twilio refuses."""
    with unit_of_work(
        context, actor, f"recording.{action}", object_type="call", object_id=call_sid
    ):
        source = context.part(recordings.RecordingPolicy).source
        if source is None:
            raise Problem(
                503,
                "Twilio is not configured",
                "Recording cannot be paused without Twilio credentials.",
            )
        try:
            source.set_paused(call_sid, action == "pause")
        except MediaUnavailable as exc:
            raise Problem(502, "Twilio did not take the change", str(exc)) from exc


# -- QA forms --------------------------------------------------------------------------


def create_form(context: AppContext, actor: Actor, body: FormIn) -> FormOut:
    """A new QA form, or a new version of one (same name); old evaluations keep theirs."""
    with unit_of_work(context, actor, "qa.form_version", object_type="qa_form") as work:
        form = qa.create_form_version(
            work.session,
            name=body.name,
            definition={"sections": [section.model_dump() for section in body.sections]},
            created_by=_staff_id(actor),
            now=work.now,
        )
        work.object_id = str(form.id)
        work.note(version=form.version)
        return FormOut.of(form)


def list_forms(context: AppContext, *, include_old: bool = False) -> list[FormOut]:
    """The QA forms in use, and their old versions if asked (configuration: not audited)."""
    with context.db() as session:
        return [FormOut.of(form) for form in qa.list_forms(session, include_old=include_old)]


# -- evaluations -----------------------------------------------------------------------


def _evaluation_out(session: Session, evaluation: QaEvaluation) -> EvaluationOut:
    form = session.get(QaForm, evaluation.form_id)
    recording = session.get(Recording, evaluation.recording_id)
    assert form is not None and recording is not None  # both are foreign keys
    names = accounts.usernames(session, {evaluation.agent_id, evaluation.evaluator_id})
    return resource(
        EvaluationOut,
        evaluation,
        recording_sid=recording.recording_sid,
        form_id=form.id,
        form_name=form.name,
        form_version=form.version,
        agent=names[evaluation.agent_id],
        evaluator=names[evaluation.evaluator_id],
        comments=[CommentIn(**comment) for comment in evaluation.comments],
    )


def _agent_evaluated(session: Session, recording: Recording, named: str | None) -> StaffUser:
    """The agent a recording is of: the one who answered its call, when the call says
    (naming someone else is refused), else the one named."""
    call = get_call(session, recording.call_sid)
    answered_by = (
        None if call is None or call.agent is None else qa.staff_named(session, call.agent)
    )
    if answered_by is not None:
        if named is not None and named.strip().lower() != answered_by.username:
            raise InvalidField("agent", "is not the agent who answered this call")
        return answered_by
    if named is None:
        raise InvalidField("agent", "is required: the call does not say who answered it")
    agent = qa.staff_named(session, named)
    if agent is None:
        raise InvalidField("agent", "is not a staff account")
    return agent


def evaluate_recording(
    context: AppContext, actor: Actor, recording_sid: str, body: EvaluationIn
) -> EvaluationOut:
    """Score a recording on a QA form, with comments at moments in the recording."""
    with unit_of_work(
        context, actor, "qa.evaluate", object_type="recording", object_id=recording_sid
    ) as work:
        recording = _found(work.session, recording_sid)
        form = work.session.get(QaForm, body.form_id)
        if form is None:
            raise InvalidField("form_id", "is not a QA form")
        agent = _agent_evaluated(work.session, recording, body.agent)
        evaluation, result = qa.evaluate(
            work.session,
            recording=recording,
            form=form,
            agent_id=agent.id,
            evaluator_id=_staff_id(actor),
            answers=body.answers,
            comments=[comment.model_dump() for comment in body.comments],
            now=work.now,
        )
        work.note(evaluation_id=evaluation.id, score=result.score)
        return _evaluation_out(work.session, evaluation)


def list_evaluations(
    context: AppContext, actor: Actor, *, agent: str | None = None
) -> list[EvaluationOut]:
    """Evaluations, newest first, of ``agent`` or of everyone; an agent sees only their
    own, whatever they ask for."""
    with unit_of_work(context, actor, "qa.evaluations_list", object_type="qa_evaluation") as work:
        if _sees_every_agent(actor):
            found = qa.list_evaluations(work.session, agent=agent)
        else:
            found = qa.list_evaluations(work.session, agent_id=_staff_id(actor))
        work.note(results=len(found))
        return [_evaluation_out(work.session, evaluation) for evaluation in found]


def read_evaluation(context: AppContext, actor: Actor, evaluation_id: int) -> EvaluationOut:
    """One evaluation. An agent may read only their own: another agent's is answered
    (and audited) as not found, so its existence is not given away."""
    with unit_of_work(
        context,
        actor,
        "qa.evaluation_view",
        object_type="qa_evaluation",
        object_id=str(evaluation_id),
    ) as work:
        evaluation = existing(qa.get_evaluation(work.session, evaluation_id), "evaluation")
        if evaluation.agent_id != actor.user_id and not _sees_every_agent(actor):
            work.note(another_agents=True)
            raise NotFound("evaluation")
        return _evaluation_out(work.session, evaluation)
