"""The site's own addresses: its root sends people to the console."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_root_sends_people_to_the_console(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/console/"
    signed_out = client.get("/")
    assert signed_out.status_code == 200 and "sign" in signed_out.text.lower()
