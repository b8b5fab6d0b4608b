"""The audit viewer's resources: filters of the trail and its entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.platform.models import AuditEntry
from services.platform.params import MAX_ROW_ID, MAX_SEQ, AwareDatetime


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str | None
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    request_id: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry, tz: ZoneInfo) -> AuditEntryOut:
        """The entry's fields as stored, its time in the city's time zone."""
        shown = cls.model_validate(entry)
        return shown.model_copy(update={"occurred_at": entry.occurred_at.astimezone(tz)})


class AuditFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    actor_name: str | None = Field(
        default=None, min_length=2, max_length=64, description="Staff username (any case)"
    )
    action: str | None = Field(default=None, max_length=64, pattern=r"^[a-z_.]+$")
    object_type: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")
    object_id: str | None = Field(default=None, max_length=64)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    before_seq: int | None = Field(default=None, ge=1, le=MAX_SEQ)
    limit: int = Field(default=100, ge=1, le=500)


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before_seq: int | None


class AuditExportFilters(AuditFilters):
    """The filters of an export: the same as the viewer's, a larger page."""

    limit: int = Field(default=10_000, ge=1, le=50_000)
