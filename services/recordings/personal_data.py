"""What recordings hold about people: the audio itself, encrypted under a per-recording
key wrapped by the master key; QA evaluations score the call taker and may comment on
what was said."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.platform.personal_data import (
    CALLS,
    RECORDINGS,
    ExportSection,
    Found,
    FreeText,
    PersonalData,
    PurgeStep,
    RecordClass,
    Sweep,
    WrappedKey,
    delete_rows,
    deleted,
    local_time,
)
from services.recordings.models import QaEvaluation, QaForm, Recording
from storage.crypto import Keyring


def _links(session: Session, found: Found) -> None:
    """A call reaches its recordings."""
    found.link(session, CALLS, Recording.call_sid, RECORDINGS, Recording.recording_sid)


def _export(
    session: Session, _keyring: Keyring, found: Found, tz: ZoneInfo
) -> list[dict[str, Any]]:
    recordings = found.rows(
        session, RECORDINGS, Recording.recording_sid, Recording.started_at, Recording.id
    )
    return [
        {
            "recording_sid": recording.recording_sid,
            "call_sid": recording.call_sid,
            "started_at": local_time(recording.started_at, tz),
            "duration_seconds": recording.duration_seconds or recording.twilio_duration_seconds,
            "kept": recording.wrapped_key is not None,
        }
        for recording in recordings
    ]


def _held_ids(sweep: Sweep) -> set[int]:
    if not sweep.held[RECORDINGS]:
        return set()
    with sweep.db() as session:
        return set(
            session.scalars(
                select(Recording.id).where(Recording.recording_sid.in_(sweep.held[RECORDINGS]))
            )
        )


def _purge_evaluations(sweep: Sweep) -> None:
    held = _held_ids(sweep)
    sweep.walk(
        "qa_evaluations",
        select(QaEvaluation.id, QaEvaluation.recording_id).where(
            QaEvaluation.created_at < sweep.cutoff("qa_evaluations")
        ),
        QaEvaluation.id,
        delete_rows(QaEvaluation, QaEvaluation.id),
        keep=lambda row: row[1] in held,
    )


def _destroy_keys(session: Session, sids: list[str]) -> int:
    """First step for a recording: its data key goes (and its derived measurements),
    so whatever copy of the blob survives can no longer be read."""
    return deleted(
        session.execute(
            update(Recording)
            .where(Recording.recording_sid.in_(sids))
            .values(wrapped_key=None, state="destroyed", failure="destroyed by retention")
        )
    )


def _purge_recordings(sweep: Sweep) -> None:
    """Keys first, then blobs, then the rows no evaluation needs. A crashed run's
    half-done recordings are finished by the next."""
    sweep.walk(
        "recordings",
        select(Recording.recording_sid, Recording.id).where(
            Recording.started_at < sweep.cutoff("recordings"), Recording.state != "destroyed"
        ),
        Recording.recording_sid,
        _destroy_keys,
        keep=lambda row: row[0] in sweep.held[RECORDINGS],
    )
    if sweep.dry_run:
        return
    while True:
        with sweep.db() as session:
            rows = session.execute(
                select(Recording.id, Recording.blob_key)
                .where(Recording.state == "destroyed", Recording.blob_key.is_not(None))
                .order_by(Recording.id)
                .limit(sweep.batch_size)
            ).all()
        if not rows:
            break
        for _, blob_key in rows:
            sweep.blobs.delete(str(blob_key))
            sweep.blob_deleted()
        with sweep.db.begin() as session:
            session.execute(
                update(Recording)
                .where(Recording.id.in_([row[0] for row in rows]))
                .values(blob_key=None, blob_sha256=None, updated_at=sweep.as_of)
            )
    evaluated = select(QaEvaluation.recording_id).distinct()
    sweep.walk(
        "recording rows",
        select(Recording.id).where(
            Recording.state == "destroyed",
            Recording.blob_key.is_(None),
            Recording.id.not_in(evaluated),
        ),
        Recording.id,
        delete_rows(Recording, Recording.id),
        counted=False,
    )


PERSONAL_DATA = PersonalData(
    feature="recordings",
    wrapped_keys=(WrappedKey(Recording.wrapped_key, "recording"),),
    free_text=(
        FreeText(Recording.media_url, personal=False, typed=False),
        FreeText(Recording.failure, personal=False, typed=False),
        FreeText(Recording.blob_key, personal=False, typed=False),
        FreeText(Recording.activity, personal=False, typed=False),
        FreeText(QaForm.name, personal=False),
        FreeText(QaForm.definition, personal=False),
        FreeText(QaEvaluation.answers, personal=False),
        FreeText(QaEvaluation.comments, personal=True),
    ),
    record_classes=(
        RecordClass(
            "recordings", "QA recordings (audio and data key)", "the recording", 1, "years"
        ),
        RecordClass("qa_evaluations", "QA evaluations", "the evaluation", 3, "years"),
    ),
    purge=(
        PurgeStep("qa_evaluations", 40, _purge_evaluations),
        PurgeStep("recordings", 50, _purge_recordings),
    ),
    links=_links,
    export=(
        ExportSection(
            "recordings",
            "Call recordings",
            30,
            _export,
            columns=(("started_at", "Recorded"), ("duration_seconds", "Length")),
            note="You may listen to these recordings; ask the Privacy Officer.",
        ),
    ),
)
