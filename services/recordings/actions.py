"""Recordings and QA, one function per use case (see services/requests/actions.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.platform.context import AppContext
from services.recordings.models import QaForm


def active_qa_forms(context: AppContext) -> list[dict[str, Any]]:
    """The QA forms in use, by name, with their sections: what an evaluator fills in on
    a recording's page (configuration, not audited)."""
    with context.db() as session:
        forms = session.scalars(select(QaForm).where(QaForm.active.is_(True)).order_by(QaForm.name))
        return [
            {
                "id": form.id,
                "name": form.name,
                "version": form.version,
                "sections": form.definition["sections"],
            }
            for form in forms
        ]
