"""One page per service request: its status history with notes (moved on in place), its
calls, contacts, appointments and texts, and booking, moving and cancelling a visit.

The page itself holds no personal data: its script reads the request, its contacts and
its appointments from the staff API, and each of those reads is audited by the
feature's action, like any other read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.console import navigation
from services.console.pages import simple_page
from services.platform.auth import Staff
from services.platform.context import AppContext
from services.requests import actions as request_actions

router = APIRouter(include_in_schema=False)
RequestNumber = Annotated[str, Path(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")]


def _request(context: AppContext, _staff: Staff, public_id: str) -> dict[str, Any]:
    services = {
        service.code: service.name
        for service in request_actions.list_services(context, include_inactive=True)
    }
    return {"title": f"Request {public_id}", "public_id": public_id, "services": services}


# The request's page, for those who may find requests; its script loads the request
# (audited as ``request.view``).
simple_page(
    navigation.SEARCH,
    "request.html",
    "request.js",
    values=_request,
    path="/console/requests/{public_id}",
    params={"public_id": RequestNumber},
    on=router,
)
