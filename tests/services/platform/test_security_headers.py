"""Every response carries the security headers; nothing with personal data is cached."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import StaffFactory


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
