"""QA recordings, the forms they are scored on, and the evaluations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import BIG_ID, Base


class Recording(Base):
    """A call or voicemail recording, from Twilio's callback to our encrypted copy.

    ``state`` walks: ``pending`` (logged, media at Twilio) → ``verified`` (our encrypted
    copy written, read back, checksum and decryption checked) → ``done`` (Twilio's copy
    deleted, or kept by setting). ``absent`` and ``failed`` are ends with a reason. Each
    recording has its own data key, wrapped by the master key; erasing ``wrapped_key``
    destroys the recording even where a copy of the blob survives.
    """

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_started_at", "started_at"),
        Index("ix_recordings_state_updated", "state", "updated_at"),
        Index("ix_recordings_extension", "extension"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "call" or "voicemail"
    source: Mapped[str | None] = mapped_column(String(32))
    twilio_status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    channels: Mapped[int] = mapped_column(Integer, default=1)
    twilio_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    media_url: Mapped[str | None] = mapped_column(String(512))
    started_at: Mapped[datetime]
    extension: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(120))
    wrapped_key: Mapped[bytes | None]
    blob_key: Mapped[str | None] = mapped_column(String(200))
    blob_sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(64))
    original_bytes: Mapped[int | None] = mapped_column(BIG_ID)
    stored_bytes: Mapped[int | None] = mapped_column(BIG_ID)
    audio_bytes: Mapped[int | None] = mapped_column(BIG_ID)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    caller_talk_seconds: Mapped[float | None] = mapped_column(Float)
    caller_silence_seconds: Mapped[float | None] = mapped_column(Float)
    agent_talk_seconds: Mapped[float | None] = mapped_column(Float)
    agent_silence_seconds: Mapped[float | None] = mapped_column(Float)
    # Per channel, the share of speech in each of a fixed number of slices (0-100).
    activity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    twilio_deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class QaForm(Base):
    """One version of a QA form. Editing a form makes a new version; evaluations keep
    the version they were scored on."""

    __tablename__ = "qa_forms"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class QaEvaluation(Base):
    __tablename__ = "qa_evaluations"
    __table_args__ = (Index("ix_qa_evaluations_agent_created", "agent_id", "created_at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    answers: Mapped[dict[str, Any]]
    comments: Mapped[list[Any]] = mapped_column(default=list)
    earned_points: Mapped[float] = mapped_column(Float)
    possible_points: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    failed_critical: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
