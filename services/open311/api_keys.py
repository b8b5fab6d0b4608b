"""Open311 API keys for civic apps; only a key's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.open311.models import Open311Key

KEY_PREFIX = "o311_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_key(session: Session, *, name: str, now: datetime) -> tuple[str, Open311Key]:
    """A new key for the app called ``name``; the plain key is returned once."""
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    row = Open311Key(name=name.strip()[:80] or "unnamed", key_hash=_hash(key), created_at=now)
    session.add(row)
    session.flush()
    return key, row


def check_key(session: Session, key: str | None) -> Open311Key | None:
    """The active key row for ``key``, or None."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    row = session.scalar(select(Open311Key).where(Open311Key.key_hash == _hash(key)))
    if (
        row is None
        or row.revoked_at is not None
        or not hmac.compare_digest(row.key_hash, _hash(key))
    ):
        return None
    return row


def list_keys(session: Session) -> list[Open311Key]:
    return list(session.scalars(select(Open311Key).order_by(Open311Key.id)))


def revoke_key(session: Session, *, key_id: int, now: datetime) -> bool:
    row = session.get(Open311Key, key_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
    return True
