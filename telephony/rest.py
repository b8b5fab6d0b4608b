"""Twilio's REST API through the SDK, sent wherever ``TWILIO_API_BASE_URL`` says.

The SDK addresses each product by its own host (``api.twilio.com``,
``lookups.twilio.com``, …). With the default base URL nothing changes; with another one
(a proxy, or a local fake in tests) ``api`` requests go to the base URL itself and other
products' requests to ``{base}/{product}``, e.g. ``{base}/lookups/v2/PhoneNumbers/…``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

DEFAULT_API_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 10.0


class RoutedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The SDK's own HTTP client, with each Twilio host mapped onto the base URL."""

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def route(self, url: str) -> str:
        if self.base_url == DEFAULT_API_BASE_URL:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not host.endswith(".twilio.com"):
            return url
        product = host.removesuffix(".twilio.com").split(".")[0]
        prefix = "" if product == "api" else f"/{product}"
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{prefix}{parts.path}{query}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.route(url), *args, **kwargs)


class TwilioAccount:
    """One Twilio account as every adapter reaches it (texts, recordings, callbacks): its
    credentials, the router onto ``TWILIO_API_BASE_URL`` and one SDK client, made once."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.auth = (account_sid, auth_token)
        self.timeout = timeout
        self.router = RoutedHttpClient(api_base_url, timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=self.router)

    def __repr__(self) -> str:  # never the token
        return f"TwilioAccount({self.auth[0]!r}, api_base_url={self.router.base_url!r})"
