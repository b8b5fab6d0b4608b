"""The audit viewer for privacy officers: a route that parses, calls the action, returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.audit import actions
from services.audit.schemas import AuditExportFilters, AuditFilters, AuditPage
from services.platform.auth import Auditor
from services.platform.context import ContextDep

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def read_audit_trail(
    staff: Auditor, context: ContextDep, filters: Annotated[AuditFilters, Query()]
) -> AuditPage:
    """Audit entries newest first, filtered by actor, action, object and time; pass
    ``next_before_seq`` back as ``before_seq`` for the next page. Reading is audited too."""
    return actions.read_trail(context, staff.actor, filters)


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_audit_trail(
    staff: Auditor, context: ContextDep, filters: Annotated[AuditExportFilters, Query()]
) -> Response:
    """The entries the filters select, newest first, as a CSV download. Audited."""
    return Response(
        actions.export_trail(context, staff.actor, filters),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit-trail.csv"'},
    )
