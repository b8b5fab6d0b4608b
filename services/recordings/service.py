"""Recordings from Twilio's callback to our encrypted copy, and back out for playback.

The pipeline is a small state machine on the recording row, run by a background job
that may be retried or repeated at any point: until our copy is verified it starts
from the download again (Twilio still has the media); once verified only the deletion
of Twilio's copy remains. Nothing deletes Twilio's copy before ours was read back,
checksummed and decrypted whole.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.calls.service import get_call
from services.platform.queries import in_period
from services.recordings import audio
from services.recordings.models import QaEvaluation, Recording
from services.recordings.source import MediaUnavailable, RecordingSource
from services.staff.models import StaffUser
from storage.blobs import BlobStore
from storage.crypto import KEY_BYTES, MasterKey
from storage.media import MediaDecryptionError, open_media, open_range, seal_media
from storage.upsert import insert_ignoring_conflicts

log = logging.getLogger("switchboard.recordings")
TWILIO_RANK = {
    "in-progress": 0,
    "paused": 0,
    "stopped": 1,
    "completed": 2,
    "absent": 2,
    "failed": 2,
}
WRAP_PURPOSE = "recording"
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class RecordingEvent:
    """A recording status callback in the city's words."""

    recording_sid: str
    call_sid: str
    status: str
    kind: str
    source: str | None
    channels: int
    duration_seconds: int | None
    started_at: datetime
    media_url: str | None
    error_code: str | None
    received_at: datetime


def record_recording_event(session: Session, event: RecordingEvent) -> bool:
    """Log a recording callback; True when it newly completed (its media can be fetched).

    Duplicates change nothing, and a late "in-progress" never undoes a final status.
    """
    call = get_call(session, event.call_sid)
    # The agent who answered, when the call already knows (else they are set on answer).
    agent_id = (
        session.scalar(select(StaffUser.id).where(StaffUser.username == call.agent))
        if call is not None and call.agent is not None
        else None
    )
    created = insert_ignoring_conflicts(
        session,
        Recording,
        {
            "recording_sid": event.recording_sid,
            "call_sid": event.call_sid,
            "kind": event.kind,
            "source": event.source,
            "twilio_status": event.status,
            "error_code": event.error_code,
            "channels": event.channels,
            "twilio_duration_seconds": event.duration_seconds,
            "media_url": event.media_url,
            "started_at": event.started_at,
            "extension": call.extension if call is not None else None,
            "agent_id": agent_id,
            "state": _state_for(event.status),
            "attempts": 0,
            "activity": {},
            "created_at": event.received_at,
            "updated_at": event.received_at,
        },
        conflict_columns=["recording_sid"],
    )
    if created:
        return event.status == "completed"
    recording = session.scalars(
        select(Recording).where(Recording.recording_sid == event.recording_sid).with_for_update()
    ).one()
    if TWILIO_RANK.get(event.status, 0) <= TWILIO_RANK.get(recording.twilio_status, 0):
        return False
    newly_completed = event.status == "completed" and recording.state in ("logged", "pending")
    recording.twilio_status = event.status
    recording.error_code = event.error_code or recording.error_code
    recording.twilio_duration_seconds = event.duration_seconds or recording.twilio_duration_seconds
    recording.media_url = event.media_url or recording.media_url
    recording.channels = event.channels or recording.channels
    recording.state = (
        _state_for(event.status) if recording.state in ("logged", "pending") else recording.state
    )
    recording.updated_at = event.received_at
    return newly_completed


def _state_for(twilio_status: str) -> str:
    return {"completed": "pending", "absent": "absent", "failed": "failed"}.get(
        twilio_status, "logged"
    )


@dataclass(frozen=True)
class RecordingPolicy:
    """Where recordings come from and how the pipeline treats them."""

    source: RecordingSource | None  # Twilio's REST side; None without credentials
    ffmpeg_path: str | None  # None: the build the imageio-ffmpeg wheel ships
    delete_from_twilio: bool
    max_attempts: int


@dataclass
class PipelineConfig:
    blobs: BlobStore
    source: RecordingSource | None
    master: MasterKey
    ffmpeg: str
    delete_from_twilio: bool
    max_attempts: int


def _blob_key(recording: Recording) -> str:
    return f"recordings/{recording.started_at:%Y/%m}/{recording.recording_sid}.sbm"


def _fail(sessions: sessionmaker[Session], recording_id: int, reason: str, now: datetime) -> None:
    with sessions.begin() as session:
        session.execute(
            update(Recording)
            .where(Recording.id == recording_id)
            .values(state="failed", failure=reason[:120], updated_at=now)
        )
    log.warning("recording failed", extra={"recording_id": recording_id, "reason": reason})


def run_pipeline(
    sessions: sessionmaker[Session], config: PipelineConfig, recording_id: int, now: datetime
) -> str:
    """Take a recording one attempt further; returns the state it reached.

    Raises to ask for a retry (the job queue backs off) while attempts remain; a
    recording that keeps failing is marked failed with its reason.
    """
    with sessions.begin() as session:
        recording = session.get(Recording, recording_id)
        if recording is None or recording.state not in ("pending", "verified"):
            return "gone" if recording is None else recording.state
        recording.attempts += 1
        recording.updated_at = now
        attempt, state = recording.attempts, recording.state
        snapshot = _Snapshot.of(recording)
    try:
        if state == "pending":
            _store_verified_copy(sessions, config, snapshot, now)
        _delete_twilio_copy(sessions, config, snapshot, now)
    except (MediaUnavailable, audio.TruncatedRecording, OSError, RuntimeError) as exc:
        reason = str(exc) or type(exc).__name__
        if attempt >= config.max_attempts:
            _fail(sessions, recording_id, f"gave up after {attempt} attempts: {reason}", now)
            return "failed"
        raise
    except audio.InvalidRecording as exc:
        _fail(sessions, recording_id, f"unusable media: {exc}", now)
        return "failed"
    return "done"


@dataclass(frozen=True)
class _Snapshot:
    id: int
    recording_sid: str
    media_url: str | None
    channels: int
    duration: int | None
    blob_key: str
    twilio_deleted: bool

    @classmethod
    def of(cls, recording: Recording) -> _Snapshot:
        return cls(
            recording.id,
            recording.recording_sid,
            recording.media_url,
            recording.channels,
            recording.twilio_duration_seconds,
            _blob_key(recording),
            recording.twilio_deleted_at is not None,
        )


def _store_verified_copy(
    sessions: sessionmaker[Session], config: PipelineConfig, item: _Snapshot, now: datetime
) -> None:
    if config.source is None:
        raise MediaUnavailable("no Twilio credentials are configured")
    if not item.media_url:
        raise audio.InvalidRecording("the callback named no media")
    wav = config.source.download(item.media_url)
    segment = audio.read_wav(wav, expected_seconds=item.duration, expected_channels=item.channels)
    processed = audio.process(segment, ffmpeg=config.ffmpeg)
    key = os.urandom(KEY_BYTES)
    blob = seal_media(processed.data, key, item.recording_sid)
    config.blobs.put(item.blob_key, blob)
    # Read our copy back and check it whole before anything relies on it.
    stored = config.blobs.get(item.blob_key)
    digest = hashlib.sha256(blob).hexdigest()
    if hashlib.sha256(stored).hexdigest() != digest:
        raise OSError("the stored copy does not match what was written")
    try:
        if open_media(stored, key, item.recording_sid) != processed.data:
            raise OSError("the stored copy does not decrypt to the recording")
    except MediaDecryptionError as exc:
        raise OSError("the stored copy does not decrypt") from exc
    stats = {channel.name: channel for channel in processed.channels}
    caller, agent = stats.get("caller"), stats.get("agent")
    with sessions.begin() as session:
        session.execute(
            update(Recording)
            .where(Recording.id == item.id)
            .values(
                state="verified",
                wrapped_key=config.master.wrap(key, purpose=WRAP_PURPOSE),
                blob_key=item.blob_key,
                blob_sha256=digest,
                content_type=processed.content_type,
                original_bytes=len(wav),
                audio_bytes=len(processed.data),
                stored_bytes=len(blob),
                duration_seconds=processed.duration_seconds,
                caller_talk_seconds=caller.talk_seconds if caller else None,
                caller_silence_seconds=caller.silence_seconds if caller else None,
                agent_talk_seconds=agent.talk_seconds if agent else None,
                agent_silence_seconds=agent.silence_seconds if agent else None,
                activity={channel.name: channel.activity for channel in processed.channels},
                failure=None,
                updated_at=now,
            )
        )


def _delete_twilio_copy(
    sessions: sessionmaker[Session], config: PipelineConfig, item: _Snapshot, now: datetime
) -> None:
    deleted_at = None
    if config.delete_from_twilio and not item.twilio_deleted:
        if config.source is None:
            raise MediaUnavailable("no Twilio credentials are configured")
        config.source.delete(item.recording_sid)
        deleted_at = now
    with sessions.begin() as session:
        values: dict[str, Any] = {"state": "done", "updated_at": now}
        if deleted_at is not None:
            values["twilio_deleted_at"] = deleted_at
        session.execute(update(Recording).where(Recording.id == item.id).values(**values))


def stalled(session: Session, *, now: datetime, older_than: timedelta) -> list[str]:
    """Recordings whose pipeline has not moved for a while (a lost job, a crash)."""
    return list(
        session.scalars(
            select(Recording.recording_sid)
            .where(
                Recording.state.in_(("pending", "verified")),
                Recording.updated_at < now - older_than,
            )
            .limit(500)
        )
    )


@dataclass(frozen=True)
class RecordingFilter:
    since: datetime | None = None
    until: datetime | None = None
    extension: str | None = None
    agent: str | None = None
    min_seconds: float | None = None
    max_seconds: float | None = None
    qa_status: str | None = None  # "unscored", "scored" or "failed_critical"
    state: str | None = None
    before_id: int | None = None
    limit: int = 50


def list_recordings(session: Session, query: RecordingFilter) -> list[Recording]:
    """Recordings newest first, filtered; page on with ``before_id``."""
    statement = in_period(select(Recording), Recording.started_at, query.since, query.until)
    if query.extension is not None:
        statement = statement.where(Recording.extension == query.extension)
    if query.agent is not None:
        agent_id = select(StaffUser.id).where(StaffUser.username == query.agent).scalar_subquery()
        statement = statement.where(Recording.agent_id == agent_id)
    duration = Recording.duration_seconds
    if query.min_seconds is not None:
        statement = statement.where(
            or_(
                duration >= query.min_seconds,
                Recording.twilio_duration_seconds >= query.min_seconds,
            )
        )
    if query.max_seconds is not None:
        statement = statement.where(duration <= query.max_seconds)
    scored = select(QaEvaluation.recording_id)
    if query.qa_status == "unscored":
        statement = statement.where(Recording.id.not_in(scored))
    elif query.qa_status == "scored":
        statement = statement.where(Recording.id.in_(scored))
    elif query.qa_status == "failed_critical":
        statement = statement.where(
            Recording.id.in_(scored.where(QaEvaluation.failed_critical.is_(True)))
        )
    if query.state is not None:
        statement = statement.where(Recording.state == query.state)
    if query.before_id is not None:
        statement = statement.where(Recording.id < query.before_id)
    return list(session.scalars(statement.order_by(Recording.id.desc()).limit(query.limit)))


def get_recording(session: Session, recording_sid: str) -> Recording | None:
    return session.scalar(select(Recording).where(Recording.recording_sid == recording_sid))


def evaluation_ids(session: Session, recording: Recording) -> list[int]:
    """The ids of the QA evaluations of a recording, oldest first."""
    return list(
        session.scalars(
            select(QaEvaluation.id)
            .where(QaEvaluation.recording_id == recording.id)
            .order_by(QaEvaluation.id)
        )
    )


def byte_range(header: str | None, total: int) -> tuple[int, int] | None:
    """The single byte range an HTTP Range header asks for (both ends included), or None
    for the whole file. ValueError when the range lies outside ``total`` bytes."""
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


def audio_etag(recording: Recording) -> str:
    """A strong validator of a recording's stored audio: the hash of its encrypted copy,
    so it changes whenever the bytes a Range refers to could have."""
    return f'"{recording.blob_sha256 or recording.blob_key or recording.recording_sid}"'


def range_still_valid(if_range: str | None, etag: str) -> bool:
    """Whether a Range may be answered under ``If-Range`` (RFC 9110, 13.1.5): with no
    If-Range, yes; with an entity tag, only one strongly equal to ``etag``; with a date,
    never, as the audio carries no Last-Modified to compare it with."""
    return if_range is None or if_range.strip() == etag


class NotPlayable(Exception):
    """The recording has no stored audio (not yet processed, failed, or destroyed)."""


@dataclass(frozen=True)
class AudioRange:
    data: bytes
    start: int
    end: int
    total: int
    content_type: str


def read_audio(
    recording: Recording, blobs: BlobStore, master: MasterKey, *, start: int, end: int | None
) -> AudioRange:
    """Decrypt plain bytes ``start``..``end`` (inclusive; None for to the end) on the fly,
    reading only the chunks they fall in. ValueError for a range outside the audio."""
    if recording.wrapped_key is None or recording.blob_key is None or recording.audio_bytes is None:
        raise NotPlayable(recording.recording_sid)
    key = master.unwrap(recording.wrapped_key, purpose=WRAP_PURPOSE)
    total = recording.audio_bytes
    last = total - 1 if end is None else min(end, total - 1)
    if start > last:
        raise ValueError("range outside the audio")
    blob_key = recording.blob_key
    data, _ = open_range(
        lambda offset, length: blobs.get(blob_key, offset, length),
        key,
        recording.recording_sid,
        start,
        last,
    )
    return AudioRange(data, start, last, total, recording.content_type or audio.CONTENT_TYPE)
