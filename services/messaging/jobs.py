"""Background jobs that send texts."""

from __future__ import annotations

from typing import Any

from services.messaging.sending import Outbound, SendConfig, due, send_text
from services.platform.context import AppContext
from services.platform.queue import RetryLater


def send_config(context: AppContext) -> SendConfig:
    outbound = context.part(Outbound)
    return SendConfig(
        gateway=outbound.carrier,
        status_callback=outbound.status_callback,
        max_attempts=outbound.max_attempts,
        take_rate=lambda: context.jobs.take_rate("sms-sender", per_second=outbound.rate_per_second),
        stale_after=outbound.uncertain_after,
    )


def send_one(context: AppContext, payload: dict[str, Any]) -> None:
    """Send one text (retried with backoff on 429 and 5xx)."""
    config = send_config(context)
    state = send_text(
        context.db, context.keyring, config, int(payload["message_id"]), now=context.clock.now()
    )
    if state == "sending":
        # An earlier attempt was cut off (its worker died, or the carrier's answer was
        # lost): check with the carrier, then retry, once that attempt counts as stale.
        raise RetryLater(config.stale_after.total_seconds())


def send_due(context: AppContext, _payload: dict[str, Any]) -> None:
    """Every minute: queue texts whose time has come (quiet hours over, reminders, lost jobs)."""
    with context.db() as session:
        ids = due(session, now=context.clock.now(), stale_after=send_config(context).stale_after)
    for message_id in ids:
        context.jobs.enqueue("sms.send", {"message_id": message_id})
