"""Email as the staff API shows it: the outbox, what the console gateway kept, and bounces
recorded by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.email import service as mail
from services.email.models import OutgoingEmail
from services.platform.resources import resource
from storage.crypto import Keyring


class EmailOut(BaseModel):
    id: int
    kind: str
    to: str
    subject: str
    body: str
    language: str
    state: str
    sent_at: datetime | None
    failure: str | None
    gateway: str | None

    @classmethod
    def of(cls, message: OutgoingEmail, keyring: Keyring, tz: ZoneInfo) -> EmailOut:
        return resource(
            cls,
            message,
            to=mail.recipient(keyring, message),
            subject=mail.subject_of(keyring, message),
            body=mail.body_of(keyring, message),
            sent_at=message.sent_at.astimezone(tz) if message.sent_at else None,
        )


class EmailOutbox(BaseModel):
    items: list[EmailOut]
    next_before_id: int | None


class KeptEmailOut(BaseModel):
    """A message the console gateway took instead of sending it."""

    to: str
    subject: str
    text: str = Field(description="The plain-text part, links and all")
    handed_at: datetime


class ConsoleEmailOut(BaseModel):
    gateway: str = Field(description="console, or smtp (which keeps nothing)")
    items: list[KeptEmailOut] = Field(
        description="Newest first: the last 200 messages handed to the console gateway "
        "in this process (none with smtp)"
    )


class SuppressionIn(BaseModel):
    """A hard bounce or a complaint reported by the mail provider: no more mail to it."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    reason: Literal["hard_bounce", "complaint"]


class SuppressionOut(BaseModel):
    reason: str
    new: bool = Field(description="False when the address was already suppressed")
