"""Recordings, pausing, QA forms and evaluations as the staff API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.platform.params import MAX_ROW_ID, AwareDatetime
from services.platform.resources import resource
from services.recordings.models import QaForm, Recording


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

    @classmethod
    def of(cls, recording: Recording, agents: dict[int, str], tz: ZoneInfo) -> RecordingOut:
        """A recording as staff see it; ``agents`` names staff by id."""
        caller_talk = {
            "talk_seconds": recording.caller_talk_seconds,
            "silence_seconds": recording.caller_silence_seconds,
        }
        agent_talk = {
            "talk_seconds": recording.agent_talk_seconds,
            "silence_seconds": recording.agent_silence_seconds,
        }
        return resource(
            RecordingOut,
            recording,
            agent=agents.get(recording.agent_id) if recording.agent_id else None,
            started_at=recording.started_at.astimezone(tz),
            talk={"caller": caller_talk, "agent": agent_talk},
            compression_ratio=(
                round(recording.original_bytes / recording.audio_bytes, 1)
                if recording.original_bytes and recording.audio_bytes
                else None
            ),
            playable=recording.wrapped_key is not None and recording.blob_key is not None,
            twilio_copy_deleted=recording.twilio_deleted_at is not None,
        )


class RecordingDetail(RecordingOut):
    activity: dict[str, list[int]]
    evaluations: list[int]


class RecordingPage(BaseModel):
    items: list[RecordingOut]
    next_before_id: int | None


class RecordingFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    extension: str | None = Field(default=None, pattern=r"^[0-9]{1,8}$")
    agent: str | None = Field(default=None, max_length=64)
    min_seconds: float | None = Field(default=None, ge=0, le=86_400)
    max_seconds: float | None = Field(default=None, ge=0, le=86_400)
    qa_status: Literal["unscored", "scored", "failed_critical"] | None = None
    state: Literal["logged", "pending", "verified", "done", "failed", "absent"] | None = None
    before_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    limit: int = Field(default=50, ge=1, le=200)


class RecordingControl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["pause", "resume"]


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

    @classmethod
    def of(cls, form: QaForm) -> FormOut:
        return cls(
            id=form.id,
            name=form.name,
            version=form.version,
            active=form.active,
            sections=form.definition["sections"],
        )


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_seconds: float = Field(ge=0, le=86_400)
    text: str = Field(min_length=1, max_length=1000)


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form_id: int = Field(ge=1, le=MAX_ROW_ID)
    agent: str | None = Field(
        default=None,
        min_length=2,
        max_length=64,
        description="The agent evaluated; known from the call when an agent answered it",
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
