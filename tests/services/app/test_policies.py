"""The composition root's policies, built from the settings once at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.app.policies import policies
from services.contacts.callbacks import CallbackPolicy
from services.messaging.sending import Outbound
from services.recordings.service import RecordingPolicy
from telephony.rest import TwilioAccount
from tests.support import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, make_settings


def _part(parts: list[object], kind: type) -> object:
    return next(part for part in parts if isinstance(part, kind))


def test_every_twilio_adapter_uses_the_one_account_made_at_start_up(
    tmp_path: Path,
) -> None:
    parts = policies(make_settings(f"sqlite:///{tmp_path / 'db'}", tmp_path, sms_gateway="twilio"))
    texts = _part(parts, Outbound).carrier  # type: ignore[attr-defined]
    recordings = _part(parts, RecordingPolicy).source  # type: ignore[attr-defined]
    callbacks = _part(parts, CallbackPolicy).dialer  # type: ignore[attr-defined]
    assert texts._client is recordings._client is callbacks._client
    assert recordings._auth == (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    assert recordings._router is texts._client.http_client


def test_an_account_never_shows_its_token() -> None:
    account = TwilioAccount(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, api_base_url="http://fake")
    assert TEST_AUTH_TOKEN not in repr(account)
    assert TEST_ACCOUNT_SID in repr(account)


def test_without_credentials_texts_stay_in_the_outbox_and_callbacks_are_refused(
    tmp_path: Path,
) -> None:
    parts = policies(
        make_settings(
            f"sqlite:///{tmp_path / 'db'}", tmp_path, twilio_auth_token=None, sms_gateway=None
        )
    )
    assert _part(parts, Outbound).carrier.name == "console"  # type: ignore[attr-defined]
    assert _part(parts, RecordingPolicy).source is None  # type: ignore[attr-defined]
    assert _part(parts, CallbackPolicy).dialer is None  # type: ignore[attr-defined]


def test_twilio_texts_without_credentials_fail_at_start_up_by_name(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db'}", tmp_path, twilio_account_sid=None, sms_gateway="twilio"
    )
    with pytest.raises(ValueError, match="SMS_GATEWAY=twilio needs TWILIO_ACCOUNT_SID"):
        policies(settings)
