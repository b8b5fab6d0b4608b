"""Every Twilio route accepts only requests signed with the account's auth token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from services.calls.models import Call, CallEvent
from services.platform.context import AppContext
from telephony.signature import WebhookVerifier
from tests.support import TEST_AUTH_TOKEN, TwilioClient, call_sid, served

TWILIO_ROUTES = [
    "/twilio/voice",
    "/twilio/voice/gather",
    "/twilio/voice/status",
    "/twilio/voice/dial-complete",
    "/twilio/voice/voicemail-complete",
]


def stored(context: AppContext) -> tuple[int, int]:
    with context.db() as session:
        return (
            session.scalar(sa.select(sa.func.count()).select_from(Call)) or 0,
            session.scalar(sa.select(sa.func.count()).select_from(CallEvent)) or 0,
        )


def test_signed_request_is_accepted(twilio: TwilioClient, context: AppContext) -> None:
    response = twilio.post("/twilio/voice", twilio.call_params(call_sid(), "ringing"))
    assert response.status_code == 200
    assert stored(context) == (1, 1)


@pytest.mark.parametrize("route", TWILIO_ROUTES)
def test_unsigned_request_is_refused_and_changes_nothing(
    route: str, twilio: TwilioClient, context: AppContext
) -> None:
    response = twilio.post(route, twilio.call_params(call_sid(), "ringing"), unsigned=True)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert stored(context) == (0, 0)


def test_tampered_parameter_is_refused(twilio: TwilioClient, context: AppContext) -> None:
    params = twilio.call_params(call_sid(), "ringing")
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        twilio.public_url + "/twilio/voice", params
    )
    params["From"] = "+12025550199"
    response = twilio.post("/twilio/voice", params, signature=signature)
    assert response.status_code == 403
    assert stored(context) == (0, 0)


def test_signature_covers_the_query_string(twilio: TwilioClient, context: AppContext) -> None:
    params = twilio.call_params(call_sid(), "in-progress", Digits="1")
    signed_for = twilio.public_url + "/twilio/voice/gather?lang=en&attempt=1"
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(signed_for, params)
    replayed = twilio.client.post(
        "/twilio/voice/gather?lang=es&attempt=1",
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert replayed.status_code == 403
    assert stored(context) == (0, 0)


def test_another_accounts_signature_is_refused(twilio: TwilioClient, context: AppContext) -> None:
    params = twilio.call_params(call_sid(), "ringing")
    foreign = RequestValidator("someone-elses-token").compute_signature(
        twilio.public_url + "/twilio/voice", params
    )
    assert twilio.post("/twilio/voice", params, signature=foreign).status_code == 403
    assert stored(context) == (0, 0)


def test_behind_a_proxy_the_public_url_with_its_prefix_is_what_counts(
    context_with: Callable[..., AppContext],
) -> None:
    """Twilio calls https://city.example.gov/switchboard/...; the proxy strips the prefix."""
    context = context_with(public_url="https://city.example.gov/switchboard")
    with served(context, base_url="http://10.0.0.5:8000") as client:
        proxied = TwilioClient(client, "https://city.example.gov/switchboard")
        ok = proxied.post("/twilio/voice", proxied.call_params(call_sid(), "ringing"))
        assert ok.status_code == 200
        assert "https://city.example.gov/switchboard/twilio/voice/gather" in ok.text
        direct = TwilioClient(client, "http://10.0.0.5:8000")
        assert (
            direct.post("/twilio/voice", direct.call_params(call_sid(), "ringing")).status_code
            == 403
        )


def test_without_an_auth_token_every_webhook_is_refused() -> None:
    verifier = WebhookVerifier(None, "https://311.example.gov")
    assert not verifier.is_valid("https://311.example.gov/twilio/voice", [], "anything")


def test_port_variants_that_twilio_may_sign_are_accepted() -> None:
    verifier = WebhookVerifier(TEST_AUTH_TOKEN, "https://311.example.gov")
    params = [("CallSid", "CA" + "0" * 32)]
    with_port = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        "https://311.example.gov:443/twilio/voice", dict(params)
    )
    assert verifier.is_valid("https://311.example.gov/twilio/voice", params, with_port)


def test_a_signature_for_the_address_used_but_not_public_url_says_so(
    context_with: Callable[..., AppContext],
) -> None:
    """A server started with another PUBLIC_URL than the address used is told apart from a
    wrong token, so an operator (or the simulator) can say which setting to fix."""
    context = context_with(public_url="http://127.0.0.1:8000")
    with served(context, base_url="http://localhost:8000") as client:
        used = TwilioClient(client, "http://localhost:8000")
        refused = used.post("/twilio/voice", used.call_params(call_sid(), "ringing"))
        assert refused.status_code == 403
        assert refused.json()["title"] == "Signed for another URL"
        assert "PUBLIC_URL" in refused.json()["detail"]
        wrong_token = TwilioClient(client, "http://localhost:8000", auth_token="another-token")
        other = wrong_token.post("/twilio/voice", used.call_params(call_sid(), "ringing"))
        assert (other.status_code, other.json()["title"]) == (403, "Forbidden")
        metrics = client.get("/metrics").text
        assert 'outcome="public_url_mismatch"' in metrics
    assert stored(context) == (0, 0)
