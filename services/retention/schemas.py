"""What the retention and legal-hold API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.platform.errors import InvalidField
from services.platform.params import AwareDatetime
from services.retention.holds import NewHold


class ScheduleOut(BaseModel):
    record_class: str
    label: str
    counted_from: str
    amount: int
    unit: str
    default: str
    ceiling: str | None


class ScheduleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=1, le=36_500)
    unit: Literal["days", "months", "years"]


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = True
    as_of: AwareDatetime | None = None


class RunOut(BaseModel):
    """A purge's report (``RunOut.model_validate(report)``)."""

    model_config = ConfigDict(from_attributes=True)

    as_of: datetime
    dry_run: bool
    counts: dict[str, int]
    held: dict[str, int]
    blobs_deleted: int


class NewHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: Literal["request", "call", "recording", "person"]
    target_ref: str | None = Field(
        default=None, max_length=64, description="The request number, CallSid or RecordingSid"
    )
    person: dict[Literal["phone", "email", "name", "address"], str] | None = Field(
        default=None, description="For a person: exactly one key and its value"
    )
    reason: str = Field(min_length=3, max_length=2000)

    def new_hold(self) -> NewHold:
        """The hold asked for; InvalidField (person) unless it names exactly one key."""
        person_kind, person_value = None, None
        if self.person:
            if len(self.person) != 1:
                raise InvalidField("person", "give exactly one of phone, email, name, address")
            ((person_kind, person_value),) = self.person.items()
        return NewHold(
            target_type=self.target_type,
            reason=self.reason,
            target_ref=self.target_ref,
            person_kind=person_kind,
            person_value=person_value,
        )


class HoldOut(BaseModel):
    id: str
    target_type: str
    target_ref: str | None
    person_kind: str | None
    reason: str
    placed_by: str | None
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)
