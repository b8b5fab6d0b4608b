"""Open311 API keys as the operator sees them (never the keys themselves)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from services.open311.models import Open311Key


class KeyOut(BaseModel):
    id: int
    name: str
    revoked: bool

    @classmethod
    def of(cls, row: Open311Key) -> KeyOut:
        return cls(id=row.id, name=row.name, revoked=row.revoked_at is not None)


@dataclass(frozen=True)
class IssuedKey:
    """A new key: shown once to the operator who issued it, never stored."""

    key: str
    id: int
