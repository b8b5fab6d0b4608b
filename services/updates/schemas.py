"""Consent to updates as the staff API takes and shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.platform.params import CALL_SID_PATTERN


class UpdatesIn(BaseModel):
    """The caller's consent to be told when the request changes, per channel: by text
    to the contact's mobile, by email to the contact's email."""

    model_config = ConfigDict(extra="forbid")

    sms: bool = Field(default=False, description="Optional: texts to the contact's mobile.")
    email: bool = Field(default=False, description="Optional: emails to the contact's email.")
    language: Literal["en", "es"] = Field(default="en", description="The caller's language")


class AddCallerIn(BaseModel):
    """Another caller about the same request who wants its updates too."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=64, description="A mobile, for texts")
    email: str | None = Field(default=None, max_length=254)
    language: Literal["en", "es"] = "en"
    call_sid: str | None = Field(default=None, max_length=64, pattern=CALL_SID_PATTERN)

    @model_validator(mode="after")
    def _one_way(self) -> AddCallerIn:
        if not (self.phone or self.email):
            raise ValueError("give a phone or an email (or both)")
        return self


class UpdateConsentOut(BaseModel):
    """What the caller agreed to, as the call taker confirms it to them."""

    channel: str
    to: str
    language: str
    consent_at: datetime
    consent_by: str | None = Field(description="The staff member who took the consent")
    consent_call_sid: str | None
    withdrawn_at: datetime | None
    messages: int
    confirmation: str = Field(description="What to read back to the caller")
