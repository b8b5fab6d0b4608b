"""The Contact resource of the staff API (field names fixed by CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.contacts.models import Contact
from services.contacts.service import Channel, Resolution
from services.platform.params import CALL_SID_PATTERN, AwareDatetime
from services.platform.resources import resource

ContactId = Annotated[
    str, Path(min_length=14, max_length=16, pattern=r"^CT-[0-9A-Z]{5}-[0-9A-Z]{5}$")
]


class ContactRecord(BaseModel):
    id: str
    channel: Channel
    direction: Literal["inbound", "outbound"]
    call_sid: str | None
    agent: str | None = Field(description="Username of the staff member who handled it")
    department: str | None
    started_at: datetime
    ended_at: datetime | None
    topics: list[str] = Field(description="Knowledge-base codes")
    resolution: Resolution | None = Field(description="Null until wrapped up")
    request_ids: list[str] = Field(description="Requests filed on it (never anonymous ones)")
    anonymous_requests: int = Field(
        description="How many anonymous requests were filed on it; which ones is not kept"
    )
    transferred_to: str | None
    wrapped_up_at: datetime | None
    after_contact_seconds: float | None = Field(
        description="After-contact work: from the end of the contact to its wrap-up"
    )
    notes: str | None

    @classmethod
    def of(
        cls,
        contact: Contact,
        *,
        request_ids: list[str],
        notes: str | None,
        tz: ZoneInfo,
        topics: list[str] | None = None,
    ) -> ContactRecord:
        def local(instant: datetime | None) -> datetime | None:
            return None if instant is None else instant.astimezone(tz)

        after = None
        if contact.wrapped_up_at is not None and contact.ended_at is not None:
            after = max(0.0, (contact.wrapped_up_at - contact.ended_at).total_seconds())
        return resource(
            cls,
            contact,
            id=contact.public_id,
            started_at=contact.started_at.astimezone(tz),
            ended_at=local(contact.ended_at),
            topics=topics if topics is not None else [topic.code for topic in contact.topics],
            request_ids=request_ids,
            wrapped_up_at=local(contact.wrapped_up_at),
            after_contact_seconds=after,
            notes=notes,
        )


class ContactLogIn(BaseModel):
    """A contact logged by hand: an email answered, someone at the counter, ..."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    started_at: AwareDatetime | None = Field(default=None, description="Default: now")
    ended_at: AwareDatetime | None = None
    department: str | None = Field(default=None, pattern=r"^[0-9]{1,8}$")


class ContactSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_sid: str | None = Field(default=None, pattern=CALL_SID_PATTERN)
    agent: str | None = Field(default=None, min_length=2, max_length=64)
    request_id: str | None = Field(
        default=None,
        pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$",
        description="Contacts on which this request was filed",
    )
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class ContactList(BaseModel):
    items: list[ContactRecord]


class WrapUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[str] = Field(default_factory=list, max_length=10)
    resolution: Resolution
    request_ids: list[Annotated[str, Field(max_length=16)]] = Field(
        default_factory=list, max_length=20
    )
    transferred_to: str | None = Field(
        default=None, max_length=120, description="Where the caller was transferred or referred"
    )
    notes: str | None = Field(default=None, max_length=4000, description="Sealed; never published")


class CallbackIn(BaseModel):
    """Call a caller back about a request or after a contact (exactly one). The number
    comes from the record, so none is sent."""

    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(default=None, pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
    contact_id: str | None = Field(default=None, pattern=r"^CT-[0-9A-Z]{5}-[0-9A-Z]{5}$")

    @model_validator(mode="after")
    def _one(self) -> CallbackIn:
        if (self.request_id is None) == (self.contact_id is None):
            raise ValueError("give exactly one of request_id and contact_id")
        return self


class CallbackOut(BaseModel):
    call_sid: str = Field(description="The call that rings the agent, then bridges the caller")
    contact_id: str
    status: str


# -- the caller on a call, for the call taker's workspace --------------------------------


class CallerRequest(BaseModel):
    id: str
    service_code: str
    service_name: str = Field(description="The service by name, as people say it")
    status: str
    address: str | None
    description: str = Field(description="The first 200 characters")
    created_at: datetime


class CallerContact(BaseModel):
    id: str
    channel: Channel
    direction: Literal["inbound", "outbound"]
    agent: str | None
    started_at: datetime
    resolution: Resolution | None
    topics: list[str]
    request_ids: list[str]


class CallerAppointment(BaseModel):
    id: str
    request_id: str | None
    starts_at: datetime
    ends_at: datetime
    department: str
    status: str


class CallerText(BaseModel):
    direction: Literal["to_caller", "from_caller"]
    at: datetime
    body: str
    state: str | None = Field(description="For texts to the caller: queued, sent, delivered...")


class CallerOut(BaseModel):
    """Who is on the call and what the city has from their number, newest first."""

    call_sid: str
    started_at: datetime
    ended: bool
    extension: str | None
    withheld: bool = Field(description="The caller withheld their number")
    number: str | None = Field(description="E.164; null when withheld or not a number")
    number_for_people: str | None = Field(description="The number as people write it")
    contact: ContactRecord | None = Field(description="This call's own contact, once answered")
    requests: list[CallerRequest]
    contacts: list[CallerContact]
    appointments: list[CallerAppointment]
    texts: list[CallerText]
