"""The extension directory behind the IVR menu."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class Extension(Base):
    """A department in the IVR menu: the digit a caller presses and where the call goes."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digits: Mapped[str] = mapped_column(String(8), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_es: Mapped[str] = mapped_column(String(80))
    destination: Mapped[str] = mapped_column(String(255))
    record_calls: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
