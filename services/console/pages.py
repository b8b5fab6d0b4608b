"""The staff console: pages rendered on the server, each behind the permission its work
needs, and the event stream that pops a ringing call onto an agent's screen.

Pages carry no personal data in their URLs: searches and filings are sent by the page's
script to the staff API in request bodies, with the session's CSRF token. A page a role
may not use is left out of its navigation and refused (403, audited) if asked for.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from services.audit import actions as audit_actions
from services.calls import actions as call_actions
from services.console import dashboard, navigation
from services.console.events import event_stream, sse
from services.console.navigation import Page
from services.contacts import service as contacts
from services.directory import actions as directory_actions
from services.email import actions as email_actions
from services.platform import audit
from services.platform.auth import (
    SESSION_COOKIE,
    Permission,
    Refusal,
    Staff,
    allows,
    audit_refusal,
    authenticate,
    require,
)
from services.platform.context import AppContext, ContextDep
from services.platform.errors import NotFound, Problem
from services.platform.params import CityDate, RecordingSid
from services.platform.phones import for_people
from services.recordings import actions as recording_actions
from services.reports import actions as reports
from services.reports.service import DateRange
from services.requests import actions as request_actions
from services.requests.schemas import RingingCallOut
from services.staff import actions as staff_actions
from services.staff import sign_in

HERE = Path(__file__).parent
# The contact log's outcomes in words, for every page that shows or chooses one.
RESOLUTIONS = tuple((code, code.replace("_", " ").capitalize()) for code in contacts.RESOLUTIONS)
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

# The screen pop polls the database (any web process may hold the agent's stream) for
# calls ringing on the agent's extension.
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class ConsolePolicy:
    """How long a screen-pop stream lasts before the browser opens a new one."""

    stream_seconds: float = 55.0


class PageRefused(Exception):
    """A console page was refused: rendered as a page, not as problem details."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def page_guard(page: Page | Permission) -> Callable[..., Staff]:
    """``require()`` for a console page: the same check and audit, refusals as pages."""
    permission = page.permission if isinstance(page, Page) else page
    check = require(permission)

    def dependency(request: Request, context: ContextDep) -> Staff:
        try:
            return check(request, context)
        except Problem as problem:
            raise PageRefused(problem.status, problem.detail or problem.title) from None

    dependency.__name__ = f"page_{permission.name.lower()}"
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def _csrf(request: Request, context: AppContext) -> str:
    cookie = request.cookies.get(SESSION_COOKIE)
    return sign_in.csrf_token(context.keyring, cookie) if cookie else ""


def render(
    request: Request,
    context: AppContext,
    template: str,
    *,
    staff: Staff | None,
    title: str,
    status: int = 200,
    scripts: tuple[str, ...] = (),
    **values: Any,
) -> HTMLResponse:
    """A console page with the navigation the signed-in person's role allows."""
    role = staff.role if staff is not None else None
    return templates.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "nav": navigation.sections(role) if role is not None else [],
            "may": (lambda name: role is not None and allows(role, Permission(name))),
            "csrf_token": _csrf(request, context),
            "city": context.city.name,
            "city_tz": context.city.tz.key,
            "title": title,
            "scripts": scripts,
            "path": request.url.path,
            # Services are shown by name (SB.serviceName), never by code; outcomes too.
            "service_names": (
                request_actions.list_services(context, include_inactive=True)
                if staff is not None
                else []
            ),
            "resolution_names": RESOLUTIONS if staff is not None else (),
            **values,
        },
        status_code=status,
    )


def _second_factor_pending(request: Request, context: AppContext) -> bool:
    found = staff_actions.session_of(context, request.cookies.get(SESSION_COOKIE))
    return found is not None and found.second_factor_pending


def _signed_in(request: Request, context: AppContext) -> Staff | None:
    try:
        return authenticate(request, context, allow_pending=True)
    except Refusal:
        return None


def _sign_in_form(
    request: Request, context: AppContext, *, reload_after: bool, status: int = 200
) -> HTMLResponse:
    """The sign-in form; with ``reload_after``, signing in reloads the page it stands in."""
    return render(
        request,
        context,
        "sign_in.html",
        staff=None,
        title="Sign in",
        status=status,
        scripts=("sign-in.js",),
        reload_after=reload_after,
    )


async def page_refused(request: Request, exc: Exception) -> Response:
    """401: the sign-in form in place (the page reloads once signed in). 403: the
    second-factor enrolment for a session that needs one, else a refusal page."""
    assert isinstance(exc, PageRefused)
    context: AppContext = request.app.state.context
    if exc.status == 401:
        return _sign_in_form(request, context, reload_after=True, status=401)
    if await run_in_threadpool(_second_factor_pending, request, context):
        return render(
            request,
            context,
            "enrol.html",
            staff=None,
            title="Set up your second factor",
            status=403,
            scripts=("enrol.js",),
        )
    staff = await run_in_threadpool(_signed_in, request, context)
    return render(
        request,
        context,
        "refused.html",
        staff=staff,
        title="Not available to your role",
        status=exc.status if exc.status in (401, 403) else 403,
        detail=exc.detail,
    )


def install(app: FastAPI) -> None:
    """Mount the console's pages, its own static files and its refusal pages on ``app``."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    # Imported here: the workspace's routes use this module's guard and renderer.
    from services.console import workspace  # noqa: PLC0415

    app.include_router(workspace.router)
    # The supervisors' pages use this module's helpers, so they are imported once it is whole.
    from services.console import oversight  # noqa: PLC0415

    app.include_router(oversight.router)
    from services.console import requestpage  # noqa: PLC0415 (it imports this module)

    app.include_router(requestpage.router)  # after the fixed /console/requests/… pages
    app.add_exception_handler(PageRefused, page_refused)


# -- signing in and out ----------------------------------------------------------------


@router.get("/console", response_class=HTMLResponse)
@router.get("/console/", response_class=HTMLResponse)
def console_home(request: Request, context: ContextDep) -> Response:
    """The page the signed-in person's role lands on (navigation.landing); the sign-in
    page otherwise."""
    staff = _signed_in(request, context)
    if staff is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    page = navigation.landing(staff.role)
    if page is None or _second_factor_pending(request, context):
        raise PageRefused(403, "Nothing in the console is open to this session yet.")
    return RedirectResponse(page.path, status_code=303)


@router.get("/console/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, context: ContextDep) -> Response:
    return _sign_in_form(request, context, reload_after=False)


@router.post("/console/sign-out")
def sign_out(
    request: Request, context: ContextDep, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """End the session from the console's sign-out form, which carries the CSRF token."""
    request_id = request.state.request_id
    try:
        staff_actions.sign_out_by_form(
            context,
            request.cookies.get(SESSION_COOKIE),
            csrf_token=csrf_token,
            request_id=request_id,
        )
    except Refusal as refusal:
        anonymous = audit.Actor(None, None, None, request_id)
        audit_refusal(context, anonymous, request, refusal.reason, "session")
        raise PageRefused(refusal.status, refusal.detail) from None
    response = RedirectResponse("/console/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=context.city.https, samesite="strict")
    return response


# -- agents ----------------------------------------------------------------------------


# What a page's template needs beyond the common values: ``(context, staff, **params)``
# to the values (a ``title`` among them replaces the page's).
PageValues = Callable[..., dict[str, Any]]


def simple_page(
    page: Page,
    template: str,
    *scripts: str,
    values: PageValues | None = None,
    path: str | None = None,
    params: dict[str, Any] | None = None,
    on: APIRouter = router,
) -> None:
    """A page whose data the page's script loads from the staff API, added to ``on``;
    ``values`` adds what the template itself needs (choices for its selects, a figure
    read as the page opens). ``path`` serves it elsewhere than ``page.path``, with
    path ``params`` (name to annotated type) handed to ``values``."""

    def show(request: Request, staff: Staff, context: AppContext, **found: Any) -> HTMLResponse:
        extra = values(context, staff, **found) if values is not None else {}
        title = extra.pop("title", page.title)
        return render(
            request, context, template, staff=staff, title=title, scripts=scripts, **extra
        )

    # Real objects, not the module's postponed (string) annotations: ``page`` is local.
    named = inspect.Parameter.KEYWORD_ONLY
    show.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", named, annotation=Request),
            inspect.Parameter(
                "staff", named, annotation=Annotated[Staff, Depends(page_guard(page))]
            ),
            inspect.Parameter("context", named, annotation=ContextDep),
            *(
                inspect.Parameter(name, named, annotation=kind)
                for name, kind in (params or {}).items()
            ),
        ],
        return_annotation=HTMLResponse,
    )
    path = path or page.path
    show.__name__ = "page_" + path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    on.add_api_route(path, show, methods=["GET"], response_class=HTMLResponse)


simple_page(navigation.LIVE, "live.html", "live.js")
simple_page(navigation.SEARCH, "search.html", "search.js")
simple_page(navigation.REVIEW, "review.html", "review.js")
simple_page(navigation.WRAP_UP, "contacts.html", "contacts.js")
simple_page(navigation.APPOINTMENTS, "appointments.html", "appointments.js")
simple_page(navigation.MESSAGES, "messages.html", "messages.js")
simple_page(navigation.EVALUATIONS, "evaluations.html", "evaluations.js")
simple_page(navigation.PRIVACY_REQUESTS, "privacy_requests.html", "privacy-requests.js")
simple_page(navigation.HOLDS, "holds.html", "holds.js")
simple_page(navigation.DISCLOSURES, "disclosures.html", "disclosures.js")
simple_page(navigation.RETENTION, "admin_retention.html", "admin-retention.js")
simple_page(navigation.STAFF, "admin_staff.html", "admin-staff.js")
simple_page(navigation.APPROVALS, "admin_approvals.html", "admin-approvals.js")
simple_page(navigation.EXTENSIONS, "admin_extensions.html", "admin-extensions.js")
simple_page(navigation.ALERTS, "alerts.html", "alerts.js")


def _email_gateway(context: AppContext, _staff: Staff) -> dict[str, Any]:
    # The section of what the console gateway kept is there only when it keeps anything.
    return {"gateway": email_actions.gateway_name(context)}


def _extensions(context: AppContext, _staff: Staff) -> dict[str, Any]:
    return {"extensions": directory_actions.list_extensions(context)}


def _audit_actions(context: AppContext, _staff: Staff) -> dict[str, Any]:
    return {"actions": audit_actions.recorded_actions(context)}


def _active_services(context: AppContext, _staff: Staff) -> dict[str, Any]:
    return {"services": request_actions.list_services(context)}


def _all_services(context: AppContext, _staff: Staff) -> dict[str, Any]:
    # Retired services too: the administrator offers them again from this page.
    return {"services": request_actions.list_services(context, include_inactive=True)}


def _service_choices(context: AppContext, _staff: Staff) -> dict[str, Any]:
    services = request_actions.list_services(context)
    return {
        "services": [(service.code, f"{service.name} ({service.code})") for service in services]
    }


simple_page(navigation.NEW_REQUEST, "request_form.html", "request-form.js", values=_active_services)
simple_page(navigation.KNOWLEDGE, "knowledge.html", "knowledge.js", values=_service_choices)
simple_page(navigation.SERVICES, "admin_services.html", "admin-services.js", values=_all_services)
simple_page(navigation.CALLS, "calls.html", "calls.js", values=_extensions)
simple_page(navigation.AUDIT, "audit.html", "audit.js", values=_audit_actions)
simple_page(navigation.RECORDINGS, "recordings.html", "recordings.js", values=_extensions)
simple_page(navigation.EMAIL, "email.html", "email.js", values=_email_gateway)


# -- supervisors -----------------------------------------------------------------------


@router.get("/console/recordings/{recording_sid}", response_class=HTMLResponse)
def recording_page(
    recording_sid: RecordingSid,
    request: Request,
    staff: Annotated[Staff, Depends(page_guard(navigation.RECORDINGS))],
    context: ContextDep,
) -> HTMLResponse:
    """One recording: the player, talk and silence per channel, and the QA form."""
    return render(
        request,
        context,
        "recording.html",
        staff=staff,
        title="Recording",
        scripts=("player.js",),
        recording_sid=recording_sid,
        forms=recording_actions.list_forms(context),
    )


@router.get(navigation.DASHBOARD.path, response_class=HTMLResponse)
def dashboard_page(
    *,
    request: Request,
    staff: Annotated[Staff, Depends(page_guard(navigation.DASHBOARD))],
    context: ContextDep,
    start: Annotated[CityDate | None, Query()] = None,
    end: Annotated[CityDate | None, Query()] = None,
    by: Annotated[Literal["hour", "day", "extension"], Query()] = "day",
) -> HTMLResponse:
    """Call volume, answered and abandoned calls, handle time: aggregates only."""
    today = context.clock.now().astimezone(context.city_tz).date()
    last = end or today
    first = start or last - timedelta(days=6)
    error = None
    if first > last or (last - first).days >= dashboard.MAX_DAYS:
        error = f"Choose a start on or before the end, at most {dashboard.MAX_DAYS} days apart."
        first = last - timedelta(days=6)
    rows = reports.call_dashboard(context, staff.actor, DateRange(first, last), by=by)
    keys = [row.key for row in rows]
    tick = (lambda key: key[-5:]) if by == "day" else str
    charts = [
        dashboard.bar_chart(
            "Calls", keys, [("Calls", "series-calls", [r.calls or 0 for r in rows])], tick=tick
        ),
        dashboard.bar_chart(
            "Answered and abandoned",
            keys,
            [
                ("Answered", "series-answered", [r.answered or 0 for r in rows]),
                ("Abandoned", "series-abandoned", [r.abandoned or 0 for r in rows]),
            ],
            tick=tick,
        ),
        dashboard.bar_chart(
            "Average handle time",
            keys,
            [("Handle time", "series-handle", [r.avg_handle_seconds or 0 for r in rows])],
            shown=dashboard.duration,
            tick=tick,
        ),
    ]
    return render(
        request,
        context,
        "dashboard.html",
        staff=staff,
        title=navigation.DASHBOARD.title,
        rows=rows,
        charts=charts,
        start=first,
        end=last,
        by=by,
        error=error,
        duration=dashboard.duration,
    )


# -- the screen pop --------------------------------------------------------------------


def _ring(pop: RingingCallOut, region: str) -> dict[str, Any]:
    """A ``ring`` event as live.js reads it: the call, and a line per earlier request."""
    return {
        "event": "ring",
        "call_sid": pop.call_sid,
        "extension": pop.extension,
        "started_at": pop.started_at.isoformat(),
        "caller_withheld": pop.caller_withheld,
        "from_number": pop.from_number,
        "from_number_for_people": for_people(pop.from_number, region),
        "requests": [
            {
                "id": earlier.id,
                "service_code": earlier.service_code,
                "status": earlier.status,
                "address": earlier.address,
                "description": earlier.description[:200],
                "created_at": earlier.created_at.isoformat(),
            }
            for earlier in pop.items
        ],
    }


def _ringing(
    context: AppContext,
    staff: Staff,
    extension: str,
    shown: set[str],
    answered: set[str] | None = None,
) -> list[dict[str, Any]]:
    """New ringing calls on the extension with their screen pops (each audited as the
    API audits it), and an ``ended`` marker for shown calls that are no longer ringing.
    With ``answered`` (the calls already said to be picked up), an ``answered`` marker
    for each shown call an agent has since picked up (the call bar's "on a call")."""
    personal = staff_actions.rings_personally(context, staff.user_id)
    live = call_actions.ringing_call_sids(
        context, extension=extension, offered_to=staff.user_id if personal else None
    )
    events: list[dict[str, Any]] = [
        {"event": "ended", "call_sid": call_sid} for call_sid in sorted(shown - set(live))
    ]
    for call_sid in live:
        if call_sid in shown:
            continue
        try:
            pop = request_actions.pop_ringing_call(context, staff.actor, call_sid)
        except NotFound:
            continue  # gone since it was seen ringing (the miss is audited)
        events.append(_ring(pop, context.region))
    if answered is not None:
        showing = [event["call_sid"] for event in events if event["event"] == "ring"]
        showing += [call_sid for call_sid in live if call_sid in shown]
        picked_up = call_actions.answered_call_sids(context, showing)
        events += [
            {"event": "answered", "call_sid": call_sid}
            for call_sid in showing
            if call_sid in picked_up and call_sid not in answered
        ]
    return events


@router.get("/console/events")
async def screen_pop_events(
    request: Request,
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_READ))],
    context: ContextDep,
) -> Response:
    """Server-sent events for the agent's extension: ``ring`` with the caller's earlier
    requests (or a withheld number), ``answered`` once an agent has picked it up,
    ``ended`` when the call is over. Without
    ``Accept: text/event-stream`` the calls ringing now are answered once, as JSON."""
    extension = await run_in_threadpool(staff_actions.agent_extension, context, staff.user_id)
    if "text/event-stream" not in request.headers.get("accept", ""):
        events = (
            await run_in_threadpool(_ringing, context, staff, extension, set()) if extension else []
        )
        return Response(
            json.dumps({"extension": extension, "ringing": events}),
            media_type="application/json",
        )
    first = [sse("status", {"extension": extension})]
    lifetime = context.part(ConsolePolicy).stream_seconds
    if not extension:
        return event_stream(request, lifetime=lifetime, every=POLL_SECONDS, poll=None, first=first)
    ringing_on: str = extension
    shown: set[str] = set()
    answered: set[str] = set()

    async def calls_changed() -> list[str]:
        events = await run_in_threadpool(_ringing, context, staff, ringing_on, shown, answered)
        frames = []
        for event in events:
            name = event.pop("event")
            if name == "ring":
                shown.add(event["call_sid"])
            elif name == "answered":
                answered.add(event["call_sid"])
            else:
                shown.discard(event["call_sid"])
                answered.discard(event["call_sid"])
            frames.append(sse(name, event))
        return frames

    return event_stream(
        request, lifetime=lifetime, every=POLL_SECONDS, poll=calls_changed, first=first
    )
