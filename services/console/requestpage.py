"""One page per service request: its status history with notes (moved on in place), its
calls, contacts, appointments and texts, and booking, moving and cancelling a visit.

The page itself holds no personal data: its script reads the request, its contacts and
its appointments from the staff API, and each of those reads is audited by the
feature's action, like any other read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from services.console import navigation
from services.console.pages import page_guard, render
from services.platform.auth import Staff
from services.platform.context import ContextDep
from services.requests import actions as request_actions

router = APIRouter(include_in_schema=False)
RequestNumber = Annotated[str, Path(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")]


@router.get("/console/requests/{public_id}", response_class=HTMLResponse)
def request_page(
    public_id: RequestNumber,
    request: Request,
    staff: Annotated[Staff, Depends(page_guard(navigation.SEARCH))],
    context: ContextDep,
) -> HTMLResponse:
    """The request's page; its script loads the request (audited as ``request.view``)."""
    services = {
        service.code: service.name
        for service in request_actions.list_services(context, include_inactive=True)
    }
    return render(
        request,
        context,
        "request.html",
        staff=staff,
        title=f"Request {public_id}",
        scripts=("request.js",),
        public_id=public_id,
        services=services,
    )
