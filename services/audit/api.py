"""The audit viewer for privacy officers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import ContextDep
from services.platform.params import MAX_ROW_ID, MAX_SEQ

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str | None
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    request_id: str | None
    detail: dict[str, Any]


class AuditFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    action: str | None = Field(default=None, max_length=64, pattern=r"^[a-z_.]+$")
    object_type: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")
    object_id: str | None = Field(default=None, max_length=64)
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = Field(default=None, ge=1, le=MAX_SEQ)
    limit: int = Field(default=100, ge=1, le=500)


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before_seq: int | None


@router.get("", response_model=AuditPage)
def read_audit_trail(
    staff: Annotated[Staff, Depends(require(Permission.AUDIT_READ))],
    context: ContextDep,
    filters: Annotated[AuditFilters, Query()],
) -> AuditPage:
    """Audit entries newest first, filtered by actor, action, object and time; pass
    ``next_before_seq`` back as ``before_seq`` for the next page. Reading is audited too."""
    query = audit.AuditQuery(**filters.model_dump())
    with context.db.begin() as session:
        entries = audit.search(session, query)
        page = AuditPage(
            items=[
                AuditEntryOut(
                    seq=entry.seq,
                    occurred_at=entry.occurred_at.astimezone(context.city_tz),
                    actor_id=entry.actor_id,
                    actor_name=entry.actor_name,
                    actor_role=entry.actor_role,
                    action=entry.action,
                    object_type=entry.object_type,
                    object_id=entry.object_id,
                    outcome=entry.outcome,
                    request_id=entry.request_id,
                    detail=entry.detail,
                )
                for entry in entries
            ],
            next_before_seq=entries[-1].seq if len(entries) == filters.limit else None,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="audit.read",
            at=context.clock.now(),
            object_type="audit_log",
            detail={"results": len(entries)},
        )
    return page
