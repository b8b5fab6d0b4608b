"""Simulated callers after business hours hear the notice and leave a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow


@pytest.fixture
def server_env() -> dict[str, str]:
    # Open one minute a week, early on Sunday: closed whenever this test runs.
    return {"SWITCHBOARD_BUSINESS_HOURS": "sun 03:00-03:01"}


def test_after_hours_every_simulated_call_is_logged_without_a_failure(
    server: Server, tmp_path: Path
) -> None:
    _, legs = server.simulate(tmp_path / "report.json", "--calls", "12", "--seed", "5")
    assert len(legs) == 12 and all(leg["extension"] is None for leg in legs)
    with server.api() as api:
        for leg in legs:
            got = api.get(f"/api/calls/{leg['call_sid']}").json()
            assert (got["status"], got["duration_seconds"]) == (
                "completed",
                leg["duration_seconds"],
            )
