"""The reports of the staff API: what is asked, and the rows answered."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.platform.params import CityDate


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: CityDate = Field(description="First local date of the city, included.")
    end: CityDate = Field(description="Last local date of the city, included (at most 366 days).")
    published: bool = Field(
        default=False, description="For publication: counts below REPORT_MIN_CELL withheld."
    )
    format: Literal["json", "csv"] = "json"


class CallReportQuery(ReportQuery):
    by: Literal["hour", "day", "extension"]


class CallRowOut(BaseModel):
    key: str = Field(description='"00".."23", an ISO date, or extension digits ("none")')
    calls: int | None
    answered: int | None
    abandoned: int | None
    avg_handle_seconds: float | None


class CallReport(BaseModel):
    by: str
    start: date
    end: date
    published: bool
    suppressed_below: int | None = Field(description="The threshold, in published reports.")
    rows: list[CallRowOut]


class RequestRowOut(BaseModel):
    service_code: str
    service_name: str
    status: str
    count: int | None


class RequestReport(BaseModel):
    start: date
    end: date
    published: bool
    suppressed_below: int | None
    rows: list[RequestRowOut]
