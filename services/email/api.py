"""Staff API for email: the outbox, what the console gateway kept, and recording bounces
and complaints."""

from __future__ import annotations

from fastapi import APIRouter

from services.email import actions
from services.email.schemas import ConsoleEmailOut, EmailOutbox, SuppressionIn, SuppressionOut
from services.platform.auth import BounceRecorder, MessageReader
from services.platform.context import ContextDep
from services.platform.params import BeforeId, PageLimit

router = APIRouter(tags=["email"])


@router.get("/api/email/outbox", response_model=EmailOutbox)
def outbox(
    staff: MessageReader,
    context: ContextDep,
    before_id: BeforeId = None,
    limit: PageLimit = 50,
) -> EmailOutbox:
    """Emails to callers, sent or waiting, newest first."""
    return actions.read_outbox(context, staff.actor, before_id=before_id, limit=limit)


@router.get("/api/email/console", response_model=ConsoleEmailOut)
def console(staff: MessageReader, context: ContextDep) -> ConsoleEmailOut:
    """With the console gateway (the embedded default, for trials): the last 200
    messages it took instead of sending, sign-up confirmations and alerts among them,
    newest first. Only those this process handed over; with SMTP, none."""
    return actions.read_console(context, staff.actor)


@router.post("/api/email/suppressions", response_model=SuppressionOut)
def suppress(body: SuppressionIn, staff: BounceRecorder, context: ContextDep) -> SuppressionOut:
    """Record a hard bounce or a complaint reported by the mail provider: that address
    gets no more mail (updates, alerts, confirmations)."""
    return actions.record_suppression(context, staff.actor, body)
