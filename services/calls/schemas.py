"""The Call resource of the staff API (field names fixed by CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.calls.models import Call
from services.calls.progress import answered_time
from services.calls.service import caller_name, party_number, unparsed_caller_id
from services.platform.params import MAX_ROW_ID, AwareDatetime
from services.platform.resources import resource
from storage.crypto import Keyring


class CallOut(BaseModel):
    call_sid: str
    parent_call_sid: str | None
    from_number: str | None = Field(description="E.164; null when the caller ID was withheld")
    to_number: str | None
    caller_withheld: bool
    caller_id_text: str | None = Field(
        description="The caller ID as received when it was not a phone number (e.g. a SIP address)"
    )
    caller_name: str | None = Field(description="Caller name from the carrier, when it sent one")
    direction: str | None
    status: str
    extension: str | None
    agent: str | None = Field(
        default=None, description="Username of the staff member who answered; null until then"
    )
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None

    @classmethod
    def of(cls, call: Call, keyring: Keyring, tz: ZoneInfo) -> CallOut:
        def local(instant: datetime | None) -> datetime | None:
            return None if instant is None else instant.astimezone(tz)

        return resource(
            cls,
            call,
            from_number=party_number(keyring, call, "from"),
            to_number=party_number(keyring, call, "to"),
            caller_id_text=unparsed_caller_id(keyring, call),
            caller_name=caller_name(keyring, call),
            started_at=call.started_at.astimezone(tz),
            answered_at=local(
                answered_time(call.answered_at, call.ended_at, call.status, call.duration_seconds)
            ),
            ended_at=local(call.ended_at),
        )


class CallSearch(BaseModel):
    """Find calls from or to a number. The number travels in the body, never in the URL."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=64, description="Any common format")
    extension: str | None = Field(default=None, max_length=8, pattern=r"^[0-9]{1,8}$")
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class CallList(BaseModel):
    items: list[CallOut]


class CallFilters(BaseModel):
    """Filters of the call log: dates, extension and status, never a number."""

    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    extension: str | None = Field(default=None, pattern=r"^[0-9]{1,8}$")
    status: (
        Literal[
            "queued",
            "initiated",
            "ringing",
            "in-progress",
            "completed",
            "busy",
            "no-answer",
            "canceled",
            "failed",
        ]
        | None
    ) = None
    agent: str | None = Field(
        default=None, min_length=2, max_length=64, description="Who answered (username)"
    )
    before_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    limit: int = Field(default=50, ge=1, le=200)


class CallPage(BaseModel):
    items: list[CallOut]
    next_before_id: int | None


# -- the call log: one row per call ------------------------------------------------------


class ContactLineOut(BaseModel):
    id: str
    agent: str | None
    resolution: str | None
    topics: list[str] = Field(description="Knowledge-base codes of the topics")
    topic_titles: list[str] = Field(description="The same topics by their titles, in order")


class CallLogRow(BaseModel):
    """One call (its caller's leg), with who answered and what hangs off its legs."""

    call_sid: str
    direction: str | None
    from_number: str | None = Field(description="E.164; null when withheld or not a number")
    caller_withheld: bool
    caller_id_text: str | None
    extension: str | None
    status: str
    agent: str | None = Field(description="Username of the staff member who answered")
    started_at: datetime
    answered_at: datetime | None = Field(description="When a call taker's leg answered")
    wait_seconds: int | None = Field(description="From the call's start to a taker's answer")
    ended_at: datetime | None
    duration_seconds: int | None
    recordings: list[str]
    contacts: list[ContactLineOut]
    requests: list[str] = Field(description="Public ids of the requests filed from the call")


class CallLogPage(BaseModel):
    items: list[CallLogRow]
    next_before_id: int | None


class CallLogSearch(BaseModel):
    """Find calls by the caller's number, in any common format; it travels in the body."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=64, description="Any common format")
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
