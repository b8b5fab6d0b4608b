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


class NewExtension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digits: str = Field(pattern=r"^[0-9]{1,8}$", description="The key callers press (not 9)")
    name_en: str = Field(min_length=2, max_length=80)
    name_es: str = Field(min_length=2, max_length=80)
    destination: str = Field(min_length=3, max_length=255)
    record_calls: bool = True


class LineOut(BaseModel):
    """How the line answers: its business hours and the welcome, as set and as standard."""

    hours: str = Field(description="In force: as set here, else the city's setting")
    hours_set: bool = Field(description="False while the city's setting is in force")
    default_hours: str
    welcome_en: str | None
    welcome_es: str | None
    open_now: bool


class LineChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours: str | None = Field(
        default=None,
        max_length=400,
        description='Like "mon-fri 08:00-18:00; sat 09:00-13:00"; empty: the city\'s setting',
    )
    welcome_en: str | None = Field(
        default=None, max_length=300, description="Said first; empty: the standard welcome"
    )
    welcome_es: str | None = Field(default=None, max_length=300)
