"""Background jobs for news alerts: confirmations, sending, resuming after a crash."""

from __future__ import annotations

from typing import Any

from services.alerts import actions
from services.alerts import service as alerts
from services.alerts.sending import Pace, Run, send_alert, unfinished
from services.email.compose import Mailer
from services.platform.context import AppContext


def confirmation(context: AppContext, payload: dict[str, Any]) -> None:
    """Mail a sign-up's confirmation link."""
    actions.send_confirmation(context, str(payload["token"]), str(payload.get("language", "en")))


def run_for(context: AppContext) -> Run:
    return Run(
        sessions=context.db,
        keyring=context.keyring,
        mailer=context.part(Mailer),
        policy=context.part(alerts.AlertPolicy),
        clock=context.clock.now,
    )


def send(context: AppContext, payload: dict[str, Any]) -> None:
    """Send an alert on from where it got to (the whole list, at the sender's rate)."""
    mailer = context.part(Mailer)
    send_alert(run_for(context), int(payload["alert_id"]), Pace(mailer.rate_per_second))


def resume(context: AppContext, _payload: dict[str, Any]) -> None:
    """Every minute: alerts whose worker died are taken up again where they stopped."""
    with context.db() as session:
        ids = unfinished(session, now=context.clock.now())
    for alert_id in ids:
        context.jobs.enqueue("alerts.send", {"alert_id": alert_id})
