"""Checking ``X-Twilio-Signature`` with the SDK's own RequestValidator.

Twilio signs the URL it called plus the sorted form parameters. Behind a reverse proxy
the app does not see that URL, so it is rebuilt from ``PUBLIC_URL`` (which may carry a
path prefix) and the path and query exactly as the request arrived.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence

from twilio.request_validator import RequestValidator, get_signature_algorithm


class FormParams(dict[str, str]):
    """Form parameters as the SDK's validator reads them: ``getall`` keeps repeated keys."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._all: dict[str, list[str]] = {}
        for key, value in pairs:
            self._all.setdefault(key, []).append(value)
        super().__init__((key, values[-1]) for key, values in self._all.items())

    def getall(self, name: str) -> list[str]:
        return self._all[name]


class WebhookVerifier:
    def __init__(self, auth_token: str | None, public_url: str) -> None:
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._public_url = public_url.rstrip("/")

    @property
    def configured(self) -> bool:
        return self._validator is not None

    def url_for(self, path: str, query: str) -> str:
        """The URL Twilio called: PUBLIC_URL, then the path and raw query as received."""
        return f"{self._public_url}{path}" + (f"?{query}" if query else "")

    def is_valid(
        self,
        url: str,
        params: Sequence[tuple[str, str]],
        signature: str | None,
        signature_settings: str | None = None,
    ) -> bool:
        """True only for a request signed with this account's auth token."""
        if self._validator is None or not signature:
            return False
        algorithm = get_signature_algorithm(signature_settings)
        form = FormParams(params)
        try:
            exact = self._validator.compute_signature(url, form, algorithm)
        except ValueError:  # an algorithm the SDK does not know
            return False
        if hmac.compare_digest(exact.encode(), signature.encode()):
            return True
        # Twilio may have signed the URL with or without its default port.
        return bool(self._validator.validate(url, form, signature, algorithm))


def sign(auth_token: str, url: str, params: Sequence[tuple[str, str]] | dict[str, str]) -> str:
    """The signature Twilio would send for ``url`` and ``params`` (simulator, tests)."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    return str(RequestValidator(auth_token).compute_signature(url, FormParams(pairs)))
