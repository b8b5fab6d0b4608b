"""News alerts as the public and the staff API see them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    language: Literal["en", "es"] = "en"


class SubscribeOut(BaseModel):
    status: Literal["check_your_email"] = "check_your_email"
    detail: str = (
        "If the address can take alerts, a confirmation email is on its way; the "
        "subscription starts when its link is followed."
    )
    tracking: bool = Field(description="Alert emails count opens (in total, never who)")


class AlertIn(BaseModel):
    """An alert in English, and in Spanish if given (Spanish subscribers get English
    otherwise). Plain text: paragraphs separated by blank lines, no links."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=3, max_length=20_000)
    subject_es: str | None = Field(default=None, min_length=3, max_length=200)
    body_es: str | None = Field(default=None, min_length=3, max_length=20_000)


class PreviewOut(BaseModel):
    recipients: int = Field(description="Confirmed subscribers it would go to now")
    english: dict[str, str] = Field(description="subject, text and html as sent")
    spanish: dict[str, str]
    tracking: bool


class AlertOut(BaseModel):
    id: str
    subject: str
    subject_es: str | None
    state: str
    tracking: bool
    created_at: datetime
    finished_at: datetime | None
    recipients: int
    sent: int
    failed: int
    uncertain: int = Field(description="Handed over as a worker died: not sent again")
    opens: int | None = Field(description="Opens counted in total (null when not tracked)")


class AlertList(BaseModel):
    items: list[AlertOut]
