"""A simulated stretch of a day with agents on duty: the operator adds agents with their
destinations and departments, they make themselves available, and `switchboard simulate`
plays calls (answered, answered by the next agent, transferred, hung up in the queue,
unanswered) and text conversations. Every answered agent leg must name its agent and
have opened their contact with the leg's timings; texts are one contact per number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.support import switchboard

pytestmark = pytest.mark.slow

AGENTS = {"client:bo": ("bo", "1"), "+13025550191": ("cy", "2"), "client:di": ("di", "3")}


@pytest.fixture
def server_env() -> dict[str, str]:
    # A simulated day runs in seconds: no wrap-up pause between an agent's calls.
    return {"SWITCHBOARD_WRAP_UP_LIMIT_SECONDS": "0"}


def test_a_simulated_day_gives_contacts_with_the_right_agent_channel_and_timings(
    server: Server, tmp_path: Path
) -> None:
    for destination, (name, department) in AGENTS.items():
        added = switchboard(
            server.env,
            "users", "add", name, "--role", "agent",
            "--destination", destination, "--department", department,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        token = switchboard(server.env, "tokens", "issue", name, "--days", "1").stdout.strip()
        available = httpx.put(
            f"{server.url}/api/me/presence",
            json={"state": "available"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert available.status_code == 200, available.text
    refused = switchboard(
        server.env, "users", "add", "zed", "--role", "agent", "--destination", "nowhere"
    )
    assert refused.returncode == 2 and "destination" in refused.stderr

    started = datetime.now(UTC) - timedelta(minutes=1)
    result, legs = server.simulate(
        tmp_path / "report.json",
        "--calls", "30", "--texts", "6", "--seed", "47", "--concurrency", "4",
    )  # fmt: skip
    assert "6 text conversations" in result.stdout
    answered_by_agents = 0
    with server.api() as api:
        for leg in legs:
            if leg["parent_call_sid"] is None:
                continue
            got = api.get(f"/api/calls/{leg['call_sid']}").json()
            assert (got["status"], got["duration_seconds"]) == (
                leg["status"],
                leg["duration_seconds"],
            ), leg
            agent = AGENTS.get(leg["to"], (None, None))[0] if leg["status"] == "completed" else None
            assert got["agent"] == agent, (leg, got)
            contacts = api.post(
                "/api/contacts/search", json={"call_sid": leg["parent_call_sid"]}
            ).json()["items"]
            mine = [contact for contact in contacts if contact["call_sid"] == leg["call_sid"]]
            if agent is None:
                assert mine == []
                continue
            answered_by_agents += 1
            [contact] = mine
            assert contact["channel"] == "phone" and contact["agent"] == agent
            assert contact["started_at"] == got["answered_at"]
            assert contact["ended_at"] == got["ended_at"]
            assert api.get(f"/api/calls/{leg['parent_call_sid']}").json()["agent"] == agent
        texts = api.post("/api/contacts/search", json={"since": started.isoformat()}).json()
    assert answered_by_agents >= 1  # how many depends on who was free when each call came
    sms = [contact for contact in texts["items"] if contact["channel"] == "sms"]
    assert 1 <= len(sms) <= 6 and all(contact["agent"] is None for contact in sms)
