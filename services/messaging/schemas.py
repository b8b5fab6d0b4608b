"""Texts as the staff API shows them: the outbox and callers' replies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.messaging import service as texts
from services.messaging.models import TextMessage
from services.platform.resources import resource
from storage.crypto import Keyring


class TextOut(BaseModel):
    id: int
    kind: str
    to: str
    body: str
    language: str
    state: str
    not_before: datetime
    sent_at: datetime | None
    twilio_status: str | None
    error_code: str | None
    failure: str | None
    gateway: str | None

    @classmethod
    def of(cls, message: TextMessage, keyring: Keyring, tz: ZoneInfo) -> TextOut:
        return resource(
            cls,
            message,
            to=texts.recipient(keyring, message),
            body=texts.body_of(keyring, message),
            not_before=message.not_before.astimezone(tz),
            sent_at=message.sent_at.astimezone(tz) if message.sent_at else None,
        )


class Outbox(BaseModel):
    items: list[TextOut]
    next_before_id: int | None


class InboundOut(BaseModel):
    id: int
    sender: str
    body: str
    keyword: str | None
    received_at: datetime
    earlier_requests: list[str] = Field(description="The sender's earlier requests, by number")


class ConversationEntry(BaseModel):
    """One text in a conversation: sent to the caller (``out``) or from them (``in``)."""

    direction: Literal["out", "in"]
    id: int
    at: datetime = Field(description="When it was due to go (queued, or held until), or received")
    body: str
    kind: str | None = Field(description="For texts out: confirmation, reminder, reply, ...")
    state: str | None = Field(description="For texts out: queued, sent, delivered, ...")


class ConversationAppointment(BaseModel):
    id: str
    request_id: str
    starts_at: datetime
    ends_at: datetime
    status: str


class ConversationOut(BaseModel):
    """The texts to and from one number, in order, with its visits."""

    number: str
    opted_out: bool = Field(description="The number said STOP: nothing can be sent to it")
    items: list[ConversationEntry]
    appointments: list[ConversationAppointment]
    requests: list[str] = Field(description="The number's earlier requests, by number")


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=480)
