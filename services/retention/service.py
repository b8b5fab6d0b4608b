"""Retention's rules that are not the purge's or a hold's own: plain functions taking a
``Session`` (no transactions, no audit). Schedules live in ``schedules``, holds in
``holds``, the purge in ``purge``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.retention.models import LegalHold

MAX_LISTED_HOLDS = 1000


def list_holds(session: Session, *, released: bool = False) -> list[LegalHold]:
    """Holds, newest first: the standing ones, or also the released (``released``)."""
    query = select(LegalHold).order_by(LegalHold.id.desc()).limit(MAX_LISTED_HOLDS)
    if not released:
        query = query.where(LegalHold.released_at.is_(None))
    return list(session.scalars(query))
