"""Metrics count every request under the route that served it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def _requests_by_route(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    counts: dict[str, float] = {}
    for route, value in re.findall(
        r'^switchboard_http_requests_total\{[^}]*route="([^"]*)"[^}]*\} (\S+)$', text, re.M
    ):
        counts[route] = counts.get(route, 0) + float(value)
    return counts


def test_the_schema_and_static_files_are_counted_under_their_own_routes(
    client: TestClient,
) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/static/console.js").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    counts = _requests_by_route(client)
    assert counts["/openapi.json"] == 1
    # Static files share one template: a label per file would grow without bound.
    assert counts["/static/{path}"] == 2
    assert counts["unmatched"] == 1
