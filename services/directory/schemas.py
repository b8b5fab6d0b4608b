"""The IVR menu's extensions, as administrators see and change them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.directory.models import Extension


class ExtensionOut(BaseModel):
    digits: str
    name_en: str
    name_es: str
    destination: str
    record_calls: bool
    enabled: bool

    @classmethod
    def of(cls, row: Extension) -> ExtensionOut:
        return cls(
            digits=row.digits,
            name_en=row.name_en,
            name_es=row.name_es,
            destination=row.destination,
            record_calls=row.record_calls,
            enabled=row.enabled,
        )


class ExtensionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_calls: bool | None = None
    enabled: bool | None = None
    name_en: str | None = Field(default=None, min_length=2, max_length=80)
    name_es: str | None = Field(default=None, min_length=2, max_length=80)
    destination: str | None = Field(default=None, min_length=3, max_length=255)
