"""The disclosure log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class Disclosure(Base):
    """One disclosure of records outside the city, with its legal basis and approver."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    disclosed_at: Mapped[datetime] = mapped_column(index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    records: Mapped[list[Any]] = mapped_column(default=list)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]
