"""Appointments as the staff API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.messaging.schemas import TextOut
from services.platform.params import CALL_SID_PATTERN, CityDatetime


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
    starts_at: CityDatetime = Field(
        description="Start of the visit window (city time if no offset)"
    )
    ends_at: CityDatetime
    location: str = Field(min_length=3, max_length=255)
    phone: str = Field(
        min_length=3, max_length=64, description="The mobile number the caller gave for texts"
    )
    language: Literal["en", "es"] = "en"
    consent: bool = Field(description="The caller agreed to texts about this appointment")
    call_sid: str | None = Field(
        default=None, pattern=CALL_SID_PATTERN, description="The call consent was given on"
    )
    department: str | None = Field(default=None, max_length=120)

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the caller must agree to texts before any is sent")
        return value


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
    starts_at: CityDatetime
    ends_at: CityDatetime
    location: str = Field(min_length=3, max_length=255)
    language: Literal["en", "es"] = "en"


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: CityDatetime
    ends_at: CityDatetime
    location: str | None = Field(default=None, min_length=3, max_length=255)


class AppointmentOut(BaseModel):
    id: str
    request_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    department: str
    phone: str
    language: str
    status: str
    consent_at: datetime
    consent_call_sid: str | None
    texts: list[TextOut]


class AppointmentList(BaseModel):
    """A request's appointments, soonest visit first."""

    items: list[AppointmentOut]
    department: str = Field(description="The department that makes the request's visits")
    visit_hours: str | None = Field(
        description="When that department makes visits, in words; null when at any time"
    )


class Preview(BaseModel):
    text: str
    characters: int
    segments: int = Field(description="How many SMS parts the text goes as")
    encoding: Literal["GSM-7", "UCS-2"] = Field(
        description="GSM-7 (160 characters a part, 153 when split) or UCS-2 (70, 67)"
    )
