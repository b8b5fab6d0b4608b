"""News alerts: the public sign-up, confirmation and one-click unsubscribe (no sign-in),
and the staff API that previews, sends and counts alerts (the communications role)."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Response
from fastapi.responses import HTMLResponse

from services.alerts import actions
from services.alerts.schemas import (
    AlertIn,
    AlertList,
    AlertOut,
    PreviewOut,
    SubscribeIn,
    SubscribeOut,
)
from services.alerts.service import TRACKING_NOTE, AlertPolicy
from services.platform.auth import Communications
from services.platform.context import ContextDep
from services.platform.params import PageLimit
from services.platform.public_pages import page
from services.platform.ratelimit import rate_limit

router = APIRouter(tags=["alerts"])
AlertId = Annotated[
    str, Path(min_length=14, max_length=16, pattern=r"^AL-[0-9A-Z]{5}-[0-9A-Z]{5}$")
]
ConfirmToken = Annotated[
    str, Path(min_length=3, max_length=1200, pattern=r"^[0-9]{1,18}\.[A-Za-z0-9_-]+$")
]
UnsubscribeToken = Annotated[
    str, Path(min_length=3, max_length=64, pattern=r"^[0-9]{1,18}\.[A-Za-z0-9_-]+$")
]
SignUpLimit = Depends(rate_limit("alerts-sign-up", limit=10, per_seconds=60))
LinkLimit = Depends(rate_limit("alerts-links", limit=60, per_seconds=60))
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@router.post(
    "/public/alerts/subscribe",
    status_code=202,
    response_model=SubscribeOut,
    dependencies=[SignUpLimit],
)
def subscribe(body: SubscribeIn, context: ContextDep) -> SubscribeOut:
    """Sign up for news alerts: a confirmation email is sent (double opt-in); the
    subscription starts when its link is followed."""
    return actions.subscribe(context, body.email, body.language)


@router.get("/public/alerts", response_class=HTMLResponse)
def sign_up_page(context: ContextDep) -> HTMLResponse:
    """The sign-up form; says so when alerts count opens."""
    text = "Enter your email address to get the city's news alerts. We send a link to confirm."
    if context.part(AlertPolicy).tracking:
        text += " " + TRACKING_NOTE["en"]
    return page(
        "News alerts / Noticias",
        text,
        form_action="/public/alerts/sign-up",
        button="Sign up / Suscribirse",
        inputs={"email": "email", "language": "en"},
    )


@router.post("/public/alerts/sign-up", response_class=HTMLResponse, dependencies=[SignUpLimit])
def sign_up_form(
    context: ContextDep,
    email: Annotated[str, Form(min_length=3, max_length=254)],
    language: Annotated[str, Form(pattern="^(en|es)$")] = "en",
) -> HTMLResponse:
    """The sign-up form's answer (the same as the JSON one)."""
    actions.subscribe(context, email, language)
    return page("Check your email / Revise su correo", SubscribeOut(tracking=False).detail)


@router.get("/public/alerts/confirm/{token}", response_class=HTMLResponse, dependencies=[LinkLimit])
def confirm_page(token: ConfirmToken) -> HTMLResponse:
    """The confirmation link's page: one button (a mail scanner's visit confirms nothing)."""
    return page(
        "Confirm your subscription / Confirme su suscripción",
        "Press the button to start getting news alerts.",
        form_action=f"/public/alerts/confirm/{token}",
        button="Confirm / Confirmar",
    )


@router.post(
    "/public/alerts/confirm/{token}", response_class=HTMLResponse, dependencies=[LinkLimit]
)
def confirm(token: ConfirmToken, context: ContextDep) -> HTMLResponse:
    """Confirm a sign-up: only now is the address kept."""
    if not actions.confirm(context, token):
        return page(
            "Link not valid",
            "This link was used already, has expired or is not genuine. Sign up again.",
            status=404,
        )
    return page(
        "Subscribed / Suscrito",
        "You will get the city's news alerts. Every alert has a link to stop them.",
    )


@router.get(
    "/public/alerts/unsubscribe/{token}", response_class=HTMLResponse, dependencies=[LinkLimit]
)
def unsubscribe_page(token: UnsubscribeToken) -> HTMLResponse:
    """The footer link's page: one button that unsubscribes at once."""
    return page(
        "Unsubscribe from news alerts / Cancelar la suscripción",
        "Press the button to stop all news alerts. It takes effect at once.",
        form_action=f"/public/alerts/unsubscribe/{token}",
        button="Unsubscribe / Cancelar",
    )


@router.post(
    "/public/alerts/unsubscribe/{token}", response_class=HTMLResponse, dependencies=[LinkLimit]
)
def unsubscribe(token: UnsubscribeToken, context: ContextDep) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058, and the footer page's button): no sign-in."""
    if not actions.unsubscribe(context, token):
        return page("Link not recognised", "This unsubscribe link is not valid.", status=404)
    return page(
        "Unsubscribed / Suscripción cancelada",
        "You will get no more news alerts. To get them again, sign up again.",
    )


@router.get("/public/alerts/{public_id}/open.gif", dependencies=[LinkLimit])
def opened(public_id: AlertId, context: ContextDep) -> Response:
    """A tracked alert's image: counts one open for the alert, nothing about who."""
    actions.count_open(context, public_id)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.post("/api/alerts/preview", response_model=PreviewOut)
def preview(body: AlertIn, staff: Communications, context: ContextDep) -> PreviewOut:
    """The alert as subscribers would get it, and to how many; nothing is sent."""
    return actions.preview(context, staff.actor, body)


@router.post("/api/alerts", status_code=202, response_model=AlertOut)
def send(body: AlertIn, staff: Communications, context: ContextDep) -> AlertOut:
    """Send an alert to every confirmed subscriber, through the queue at the sender's rate."""
    return actions.send(context, staff.actor, body)


@router.get("/api/alerts", response_model=AlertList)
def list_alerts(staff: Communications, context: ContextDep, limit: PageLimit = 50) -> AlertList:
    """Alerts sent, newest first, with their counts."""
    return actions.list_alerts(context, staff.actor, limit=limit)


@router.get("/api/alerts/{public_id}", response_model=AlertOut)
def read(public_id: AlertId, staff: Communications, context: ContextDep) -> AlertOut:
    """One alert and its counts."""
    return actions.read(context, staff.actor, public_id)
