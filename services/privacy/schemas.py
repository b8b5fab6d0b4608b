"""What the privacy officer's API takes and answers for access-and-correction requests."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.platform.params import CityDate
from services.requests.schemas import ContactCorrection


class RequesterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, description="Optional")
    phone: str | None = Field(default=None, max_length=40, description="Optional")
    email: str | None = Field(default=None, max_length=254, description="Optional")
    address: str | None = Field(default=None, max_length=300, description="Optional")


class NewRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    received_on: CityDate
    channel: Literal["mail", "email", "in_person", "phone", "web"]
    kinds: list[Literal["access", "correction"]] = Field(min_length=1, max_length=2)
    identity_evidence: str = Field(
        min_length=5,
        max_length=1000,
        description="What was checked to confirm identity (never a copy of the document)",
    )
    requester: RequesterIn


class DeadlineOut(BaseModel):
    kind: str
    due: date
    business_days_left: int
    overdue: bool


class PrivacyRequestOut(BaseModel):
    id: str
    received_on: CityDate
    channel: str
    kinds: list[str]
    identity_evidence: str
    status: str
    respond_by: date
    acknowledged_on: date | None
    decision_by: date | None
    decided_on: date | None
    decision_reason: str | None
    next_deadline: DeadlineOut | None
    answered_on: date | None = Field(
        default=None, description="When the person was first answered (acknowledged or decided)"
    )
    answered_late: bool = Field(
        default=False,
        description="The first answer missed its deadline (kept once late, even after it came)",
    )
    requester: RequesterIn | None = None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_by: CityDate | None = Field(
        default=None, description="When the decision will be made: at most 30 days on"
    )


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["granted", "denied"]
    reason: str | None = Field(default=None, max_length=4000)


class CorrectionIn(ContactCorrection):
    """A correction to the contact on one of the person's own requests."""

    request_id: str = Field(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$", description="The request")


class CorrectionOut(BaseModel):
    request_id: str
    corrected: list[str]
