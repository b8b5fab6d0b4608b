"""Encryption keys, each stored wrapped by the master key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class EncryptionKey(Base):
    """A data key (encrypts personal fields) or the root of the blind-index keys.

    ``state`` is ``active`` for the one data key new values are sealed with, ``retired``
    for keys that still open older values, ``destroyed`` once nothing needs it.
    """

    __tablename__ = "encryption_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes | None]
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
