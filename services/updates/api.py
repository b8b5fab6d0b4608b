"""Updates on requests: another caller added to a request's updates (staff), and the
one-click unsubscribe every update email carries (public, no sign-in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse

from services.platform.auth import RequestEditor
from services.platform.context import ContextDep
from services.platform.public_pages import page
from services.platform.ratelimit import rate_limit
from services.updates import actions
from services.updates.schemas import AddCallerIn, UpdateConsentOut

router = APIRouter(tags=["updates"])
PublicId = Annotated[
    str, Path(min_length=14, max_length=16, pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
]
Token = Annotated[str, Path(min_length=3, max_length=64, pattern=r"^[0-9]{1,18}\.[A-Za-z0-9_-]+$")]
Limited = Depends(rate_limit("unsubscribe", limit=60, per_seconds=60))


@router.post(
    "/api/requests/{public_id}/updates", status_code=201, response_model=list[UpdateConsentOut]
)
def add_caller(
    public_id: PublicId, body: AddCallerIn, staff: RequestEditor, context: ContextDep
) -> list[UpdateConsentOut]:
    """Another caller about this request gets its updates too, by text and/or email."""
    return actions.add_caller(context, staff.actor, public_id, body)


@router.get(
    "/public/updates/unsubscribe/{token}",
    response_class=HTMLResponse,
    dependencies=[Limited],
)
def unsubscribe_page(token: Token) -> HTMLResponse:
    """The footer link's page: one button, since a mail scanner's visit must not unsubscribe."""
    return page(
        "Stop emails about this request / Dejar de recibir correos",
        "Press the button to stop emails about this request.",
        form_action=f"/public/updates/unsubscribe/{token}",
        button="Unsubscribe / Cancelar la suscripción",
    )


@router.post(
    "/public/updates/unsubscribe/{token}",
    response_class=HTMLResponse,
    dependencies=[Limited],
)
def unsubscribe(token: Token, context: ContextDep) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058): no sign-in, takes effect at once."""
    if not actions.unsubscribe(context, token):
        return page("Link not recognised", "This unsubscribe link is not valid.", status=404)
    return page(
        "Unsubscribed / Suscripción cancelada",
        "You will get no more emails about this request. "
        "/ No recibirá más correos sobre esta solicitud.",
    )
