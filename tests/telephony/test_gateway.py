"""The real Twilio SDK reaches whatever TWILIO_API_BASE_URL names."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from telephony.rest import RoutedHttpClient, TwilioAccount
from tests.fakes.twilio_api import FakeTwilio
from tests.support import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN


def test_the_sdk_talks_to_the_configured_base_url(fake_twilio: FakeTwilio) -> None:
    client = TwilioAccount(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, api_base_url=fake_twilio.url).client
    account = client.api.v2010.accounts(TEST_ACCOUNT_SID).fetch()
    assert account.friendly_name == "City 311"
    assert [request.path for request in fake_twilio.requests] == [
        f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}.json"
    ]


def test_wrong_credentials_come_back_as_twilio_errors(fake_twilio: FakeTwilio) -> None:
    client = TwilioAccount(TEST_ACCOUNT_SID, "not-the-token", api_base_url=fake_twilio.url).client
    with pytest.raises(TwilioRestException) as error:
        client.api.v2010.accounts(TEST_ACCOUNT_SID).fetch()
    assert (error.value.status, error.value.code) == (401, 20003)


@pytest.mark.parametrize(
    ("url", "routed"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "http://fake:9/2010-04-01/Accounts/AC1/Messages.json",
        ),
        (
            "https://lookups.twilio.com/v2/PhoneNumbers/x?Fields=line_type_intelligence",
            "http://fake:9/lookups/v2/PhoneNumbers/x?Fields=line_type_intelligence",
        ),
        ("https://example.org/elsewhere", "https://example.org/elsewhere"),
    ],
)
def test_hosts_map_onto_the_base_url(url: str, routed: str) -> None:
    assert RoutedHttpClient("http://fake:9/").route(url) == routed


def test_the_default_base_url_changes_nothing() -> None:
    url = "https://lookups.twilio.com/v2/PhoneNumbers/x"
    assert RoutedHttpClient("https://api.twilio.com").route(url) == url
