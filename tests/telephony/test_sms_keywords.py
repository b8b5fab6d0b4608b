"""STOP and START from callers: once per text, in the order Twilio received them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.messaging import service as texts
from services.messaging.models import InboundText
from services.platform.context import AppContext
from tests.fakes.twilio_api import FakeTwilio
from tests.support import TwilioClient, call_sid, served

CALLER = "+13025550123"
CITY = "+13025550100"


def text(twilio: TwilioClient, body: str, sid: str | None = None) -> tuple[str, Any]:
    sid = sid or "SM" + call_sid()[2:]
    answer = twilio.text(CALLER, body, to=CITY, sid=sid)
    assert answer.status_code == 200, answer.text
    return sid, answer


def opted_out(context: AppContext) -> bool:
    with context.db() as session:
        return texts.is_opted_out(session, context.keyring, CALLER)


def test_a_replayed_stop_does_not_undo_a_later_start(
    twilio: TwilioClient, context: AppContext
) -> None:
    stop, _ = text(twilio, "STOP")
    assert opted_out(context)
    _, started = text(twilio, "START")
    assert not opted_out(context) and "<Message>" in started.text
    _, replayed = text(twilio, "STOP", sid=stop)  # the same signed webhook, again
    assert not opted_out(context)
    assert "<Message>" not in replayed.text
    start_again, _ = text(twilio, "start")
    text(twilio, "stop")
    assert opted_out(context)
    _, replayed_start = text(twilio, "START", sid=start_again)
    assert opted_out(context) and "<Message>" not in replayed_start.text
    with context.db() as session:
        assert session.query(InboundText).count() == 4


def test_keywords_act_in_the_order_twilio_received_them(
    context_with: Callable[..., AppContext], fake_twilio: FakeTwilio
) -> None:
    context = context_with(
        sms_gateway="twilio", twilio_api_base_url=fake_twilio.url, twilio_timeout_seconds=1.0
    )
    t0 = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
    inbound = fake_twilio.state.setdefault("inbound", {})
    stop, start = "SM" + call_sid()[2:], "SM" + call_sid()[2:]
    for sid, body, at in ((stop, "STOP", t0), (start, "START", t0 + timedelta(seconds=40))):
        inbound[sid] = {"from": CALLER, "to": CITY, "body": body, "date_created": at}
    with served(context) as client:
        twilio = TwilioClient(client)
        text(twilio, "START", sid=start)
        assert not opted_out(context)
        text(twilio, "STOP", sid=stop)  # older, delivered late (a retry): it does not win
        assert not opted_out(context)
        later = "SM" + call_sid()[2:]
        inbound[later] = {
            "from": CALLER,
            "to": CITY,
            "body": "STOP",
            "date_created": t0 + timedelta(minutes=5),
        }
        text(twilio, "STOP", sid=later)
        assert opted_out(context)
