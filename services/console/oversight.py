"""The supervisors' console pages of their own: the live wallboard (server-sent events)
and the QA form builder. The call log and the privacy officer's pages are simple pages
in ``pages.py``; their scripts talk to the staff API."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from services.console import navigation
from services.console.events import event_stream
from services.console.pages import ConsolePolicy, page_guard, simple_page
from services.platform.auth import Staff
from services.platform.context import AppContext, ContextDep
from services.reports import actions as reports

router = APIRouter(include_in_schema=False)

# The wallboard reads its counts from the database (any web process may hold the
# stream), at most this often, and sends them only when they changed.
BOARD_POLL_SECONDS = 1.0


def _opened_board(context: AppContext, staff: Staff) -> dict[str, Any]:
    """Calls waiting, staff by state, service level and abandoned calls, per department,
    as the page opens (audited); the page's event stream keeps it up to date."""
    return {"board": reports.open_wallboard(context, staff.actor)}


simple_page(navigation.WALLBOARD, "wallboard.html", "wallboard.js", values=_opened_board, on=router)
# Build a QA form, or a new version of one: sections of weighted questions.
simple_page(navigation.QA_FORMS, "qa_forms.html", "qa-forms.js", on=router)


def _board_json(context: ContextDep) -> str:
    board = reports.wallboard_now(context)
    data = board.model_dump(mode="json")
    data.pop("at")
    return json.dumps(data, separators=(",", ":"))


@router.get("/console/wallboard/events")
async def wallboard_events(
    request: Request,
    staff: Annotated[Staff, Depends(page_guard(navigation.WALLBOARD))],
    context: ContextDep,
) -> Response:
    """Server-sent events: ``board`` with the whole board whenever a figure changes (and
    once at the start), a comment line as a heartbeat. Opening the page is the audited
    act; the stream, and each reconnection of it, carries counts and staff names only."""
    last = ""

    async def changed_board() -> list[str]:
        nonlocal last
        board = await run_in_threadpool(_board_json, context)
        if board == last:
            return []
        last = board
        return [f"event: board\ndata: {board}\n\n"]

    return event_stream(
        request,
        lifetime=context.part(ConsolePolicy).stream_seconds,
        every=BOARD_POLL_SECONDS,
        poll=changed_board,
    )
