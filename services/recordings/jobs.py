"""Background jobs of the recordings pipeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.platform.context import AppContext
from services.recordings import audio
from services.recordings.service import (
    PipelineConfig,
    RecordingPolicy,
    get_recording,
    run_pipeline,
    stalled,
)

STALLED_AFTER = timedelta(minutes=30)


def pipeline_config(context: AppContext) -> PipelineConfig:
    policy = context.part(RecordingPolicy)
    return PipelineConfig(
        blobs=context.blobs,
        source=policy.source,
        master=context.keyring.master,
        ffmpeg=audio.ffmpeg_executable(policy.ffmpeg_path),
        delete_from_twilio=policy.delete_from_twilio,
        max_attempts=policy.max_attempts,
    )


def process_recording(context: AppContext, payload: dict[str, Any]) -> None:
    """Fetch, process, encrypt, store and verify a recording, then delete Twilio's copy."""
    with context.db() as session:
        recording = get_recording(session, str(payload.get("recording_sid", "")))
        recording_id = None if recording is None else recording.id
    if recording_id is not None:
        run_pipeline(context.db, pipeline_config(context), recording_id, context.clock.now())


def sweep_recordings(context: AppContext, _payload: dict[str, Any]) -> None:
    """Queue again any recording whose pipeline has not moved in a while (a lost job)."""
    with context.db() as session:
        sids = stalled(session, now=context.clock.now(), older_than=STALLED_AFTER)
    for sid in sids:
        context.jobs.enqueue("recordings.process", {"recording_sid": sid})
