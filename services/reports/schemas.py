"""The reports of the staff API: what is asked, and the rows answered."""

from __future__ import annotations

from datetime import date, datetime
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


class CountOut(BaseModel):
    key: str
    count: int | None = Field(description="Withheld (null) when small in a published report")


class MonthTopOut(BaseModel):
    month: str = Field(description="YYYY-MM in the city's calendar")
    items: list[CountOut]


class InquiriesOut(BaseModel):
    inquiries: int | None = Field(description="Information given, referred or transferred")
    requests_for_service: int | None = Field(description="Ended with a request filed")
    neither: int | None = Field(description="Hung up or a wrong number")


class ContactReport(BaseModel):
    start: date
    end: date
    published: bool
    suppressed_below: int | None
    by_topic: list[CountOut]
    by_resolution: list[CountOut] = Field(description='"open" for contacts not wrapped up')
    by_channel: list[CountOut]
    by_department: list[CountOut]
    inquiries_and_requests: InquiriesOut
    top_inquiries: list[MonthTopOut] = Field(description="Top 10 inquiry topics per month")


class AgentReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date
    format: Literal["json", "csv"] = "json"


class AgentRowOut(BaseModel):
    agent: str
    contacts: int
    avg_talk_seconds: float | None
    avg_after_contact_seconds: float | None
    avg_handle_seconds: float | None


class AgentReport(BaseModel):
    start: date
    end: date
    rows: list[AgentRowOut]


class DepartmentBoardOut(BaseModel):
    """One department on the wallboard (or all of them)."""

    department: str = Field(description="The menu key; empty for calls of no department")
    name: str
    waiting: int
    longest_wait_seconds: int | None
    agents: dict[str, int] = Field(description="Staff taking calls, by presence")
    staff: dict[str, list[str]] = Field(
        description="Usernames of the staff taking calls, by presence, in alphabetical order"
    )
    calls_today: int
    answered_today: int
    answered_in_time: int
    abandoned_today: int
    service_level: float | None = Field(
        description="Percent answered within the threshold, of those answered or abandoned"
    )


class WallboardOut(BaseModel):
    at: datetime
    threshold_seconds: int
    departments: list[DepartmentBoardOut]
    total: DepartmentBoardOut
