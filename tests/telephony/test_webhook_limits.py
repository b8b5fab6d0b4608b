"""Signed webhook fields longer than Twilio sends are refused with 400 before anything is
stored, on every webhook form, the same on SQLite (which would keep them silently) and
PostgreSQL (which refused them mid-transaction, a 500)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from services.calls.models import Call, CallEvent
from services.messaging.models import InboundText
from services.platform.context import AppContext
from services.recordings.models import Recording
from telephony.webhooks import FIELD_LIMITS
from tests.support import TwilioClient, call_sid, echoed

RECORDING_SID = "RE" + "b" * 32
MESSAGE_SID = "SM" + "c" * 32


def _voice(twilio: TwilioClient, sid: str) -> dict[str, str]:
    return twilio.call_params(sid, "ringing")


def _status(twilio: TwilioClient, sid: str) -> dict[str, str]:
    return twilio.call_params(sid, "completed", CallDuration="30")


def _recording(twilio: TwilioClient, sid: str) -> dict[str, str]:
    return {
        "AccountSid": twilio.account_sid,
        "CallSid": sid,
        "RecordingSid": RECORDING_SID,
        "RecordingStatus": "failed",
        "RecordingUrl": "https://api.twilio.com/recording",
    }


def _text(twilio: TwilioClient, sid: str) -> dict[str, str]:
    return {"AccountSid": twilio.account_sid, "MessageSid": MESSAGE_SID, "From": "+13025550123"}


Form = Callable[[TwilioClient, str], dict[str, str]]
# (webhook, its form, a field it stores or reads): every form, every field that reaches
# a column or a decision.
CASES: list[tuple[str, Form, str]] = [
    ("/twilio/voice", _voice, "Direction"),
    ("/twilio/voice", _voice, "From"),
    ("/twilio/voice", _voice, "CallerName"),
    ("/twilio/voice", _voice, "AccountSid"),
    ("/twilio/voice/gather?lang=en&attempt=1", _voice, "Digits"),
    ("/twilio/voice/status", _status, "SipResponseCode"),
    ("/twilio/voice/status", _status, "AnsweredBy"),
    ("/twilio/voice/status", _status, "Direction"),
    ("/twilio/voice/status", _status, "To"),
    ("/twilio/voice/status", _status, "Timestamp"),
    ("/twilio/voice/dial-complete", _voice, "DialCallStatus"),
    ("/twilio/voice/voicemail-complete", _voice, "Direction"),
    ("/twilio/recordings", _recording, "RecordingSource"),
    ("/twilio/recordings", _recording, "ErrorCode"),
    ("/twilio/recordings", _recording, "RecordingUrl"),
    ("/twilio/sms", _text, "Body"),
    (
        "/twilio/sms/status",
        lambda t, s: {"MessageSid": MESSAGE_SID, "MessageStatus": "sent"},
        "ErrorCode",
    ),
]


def _stored(context: AppContext) -> dict[str, int]:
    with context.db() as session:
        return {
            model.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            for model in (Call, CallEvent, Recording, InboundText)
        }


@pytest.mark.parametrize(
    ("path", "form", "field"), CASES, ids=[f"{p.split('?')[0]}-{f}" for p, _, f in CASES]
)
def test_an_over_long_field_is_refused_and_nothing_is_stored(
    twilio: TwilioClient, context: AppContext, path: str, form: Form, field: str
) -> None:
    sid = call_sid()
    before = _stored(context)
    params = {**form(twilio, sid), field: "9" * (FIELD_LIMITS[field] + 1)}
    response = twilio.post(path, params)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert "9999" not in echoed(response)  # the value is never echoed
    assert _stored(context) == before


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("/twilio/voice/status", _status, "Direction"),
        ("/twilio/voice/status", _status, "SipResponseCode"),
        ("/twilio/voice/status", _status, "CallerName"),
        ("/twilio/recordings", _recording, "RecordingSource"),
        ("/twilio/recordings", _recording, "ErrorCode"),
        ("/twilio/recordings", _recording, "RecordingUrl"),
    ],
)
def test_a_field_at_its_limit_is_stored(
    twilio: TwilioClient, context: AppContext, path: str, form: Form, field: str
) -> None:
    """The limits are no tighter than the columns: a value at the limit lands."""
    before = _stored(context)
    params = {**form(twilio, call_sid()), field: "7" * FIELD_LIMITS[field]}
    response = twilio.post(path, params)
    assert response.status_code == 204, response.text
    assert _stored(context) != before
