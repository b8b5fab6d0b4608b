"""Every response carries the security headers; nothing with personal data is cached."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from services.app.factory import create_app
from services.platform.context import AppContext
from tests.support import PUBLIC_URL, StaffFactory


@pytest.mark.parametrize(
    "path", ["/healthz", "/api/calls/CA00000000000000000000000000000000", "/nowhere"]
)
def test_headers_on_every_response(path: str, client: TestClient, staff: StaffFactory) -> None:
    response = client.get(path, headers=staff.headers("agent"))
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["strict-transport-security"].startswith("max-age=")  # PUBLIC_URL is https


def test_no_interactive_docs_from_a_cdn(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def _assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("path", ["/api/requests", "/twilio/voice/status"])
def test_a_body_too_large_is_refused_with_the_headers(path: str, client: TestClient) -> None:
    response = client.post(
        path, content=b"x" * 3_000_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Request body too large"
    _assert_security_headers(response)


def test_an_unexpected_error_is_answered_with_the_headers_and_no_detail(
    context: AppContext,
) -> None:
    app = create_app(context)

    def broken() -> None:
        raise RuntimeError("José Álvarez, (302) 555-0133")

    app.add_api_route("/api/broken", broken)
    with TestClient(app, base_url=PUBLIC_URL, raise_server_exceptions=False) as client:
        response = client.get("/api/broken", headers={"X-Request-Id": "req-0123456789"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "Something went wrong; the request id names it.",
        "request_id": "req-0123456789",
    }
    assert response.headers["x-request-id"] == "req-0123456789"
    _assert_security_headers(response)


def test_a_nul_character_anywhere_in_text_is_refused(
    client: TestClient, staff: StaffFactory
) -> None:
    """No field may hold a NUL (PostgreSQL's text types cannot): JSON bodies, forms and
    query strings that carry one are refused with 400 before any route runs."""
    agent = staff.headers("agent", "ana")
    body = client.post(
        "/api/requests",
        json={"service_code": "pothole", "description": "hole\u0000here"},
        headers=agent,
    )
    assert body.status_code == 400 and body.json()["detail"] == (
        "Text may not contain NUL characters."
    )
    assert client.get("/api/calls", params={"extension": "\x00"}, headers=agent).status_code == 400
    listed = client.post("/api/requests/search", json={"name": "a\u0000"}, headers=agent)
    assert listed.status_code == 400
    _assert_security_headers(body)
