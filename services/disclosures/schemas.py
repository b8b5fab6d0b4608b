"""What the disclosure log's API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.disclosures import service as disclosures
from services.disclosures.service import LegalBasis, RecordType
from services.platform.params import MAX_ROW_ID, AwareDatetime, CityDate

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._/#:-]*$"


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: RecordType
    id: str = Field(
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9-]+$",
        description="A request's public id (SR-…), a CallSid or a RecordingSid.",
    )


class DisclosureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requested_by: str = Field(
        min_length=1, max_length=200, description="The agency, court or person who asked."
    )
    legal_basis: LegalBasis
    reference: str | None = Field(
        default=None, max_length=120, description="Case, order or request number."
    )
    description: str = Field(min_length=1, max_length=4000, description="What was disclosed.")
    records: list[RecordIn] = Field(default_factory=list, max_length=disclosures.MAX_RECORDS)
    approved_by: str = Field(
        min_length=1,
        max_length=64,
        description="Username of the approver, who must hold the disclosure permission.",
    )
    disclosed_at: AwareDatetime | None = Field(
        default=None, description="When the records were handed over; now when left out."
    )


class RecordOut(BaseModel):
    type: str
    id: str | None = None
    count: int | None = Field(default=None, description="For an export: how many requests.")


class StaffRef(BaseModel):
    id: int | None
    username: str | None


class DisclosureOut(BaseModel):
    id: str
    disclosed_at: datetime
    requested_by: str
    legal_basis: str
    reference: str | None
    description: str
    records: list[RecordOut]
    record_count: int
    approved_by: StaffRef
    recorded_by: StaffRef
    created_at: datetime


class DisclosureFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_basis: LegalBasis | None = None
    start: CityDate | None = Field(default=None, description="Disclosed on or after (local date).")
    end: CityDate | None = Field(default=None, description="Disclosed on or before (local date).")
    before: int | None = Field(
        default=None, ge=1, le=MAX_ROW_ID, description="``next_before`` of the previous page."
    )
    limit: int = Field(default=50, ge=1, le=200)


class DisclosurePage(BaseModel):
    items: list[DisclosureOut]
    next_before: int | None


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: CityDate = Field(description="First local date of filing, included.")
    end: CityDate = Field(description="Last local date of filing, included (at most 366 days).")
    format: Literal["json", "csv"] = "json"
    reference: str | None = Field(
        default=None,
        max_length=120,
        pattern=REFERENCE_PATTERN,
        description="The public-records request's number (no names).",
    )
