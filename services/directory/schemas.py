"""The IVR menu's extensions, as administrators see and change them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExtensionOut(BaseModel):
    """An extension as its row holds it (``ExtensionOut.model_validate(row)``)."""

    model_config = ConfigDict(from_attributes=True)

    digits: str
    name_en: str
    name_es: str
    destination: str
    record_calls: bool
    enabled: bool


class ExtensionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_calls: bool | None = None
    enabled: bool | None = None
    name_en: str | None = Field(default=None, min_length=2, max_length=80)
    name_es: str | None = Field(default=None, min_length=2, max_length=80)
    destination: str | None = Field(default=None, min_length=3, max_length=255)
