"""The whole thing as an operator runs it: the CLI, a real server, signed webhooks over HTTP."""

from __future__ import annotations

import asyncio
import random
import subprocess
from pathlib import Path

import httpx
import pytest

from telephony.signature import sign
from tests.e2e.conftest import Server
from tests.ports import free_port
from tests.support import TEST_AUTH_TOKEN, call_sid, cli_env, switchboard

pytestmark = pytest.mark.slow


def test_simulated_calls_are_found_with_the_right_records(server: Server, tmp_path: Path) -> None:
    simulate = ("--calls", "40", "--seed", "311", "--concurrency", "8")
    result, legs = server.simulate(tmp_path / "report.json", *simulate)
    # Quiet by default: the summary alone, not a log line per webhook.
    assert result.stdout.count("\n") == 1, result.stdout
    assert "HTTP Request" not in result.stderr
    assert len(legs) > 40
    with server.api() as api:
        for leg in legs:
            got = api.get(f"/api/calls/{leg['call_sid']}").json()
            for field in (
                "status",
                "duration_seconds",
                "extension",
                "from_number",
                "caller_withheld",
                "parent_call_sid",
            ):
                assert got[field] == leg[field], (field, leg, got)
        caller = next(leg["from_number"] for leg in legs if leg["from_number"])
        national = f"({caller[2:5]}) {caller[5:8]}-{caller[8:]}"
        found = api.post("/api/calls/search", json={"phone": national}).json()["items"]
        expected = {leg["call_sid"] for leg in legs if leg["from_number"] == caller}
        assert {item["call_sid"] for item in found} == expected
    # The server's log has no caller's number in it, in any form.
    text = server.log.read_text()
    for leg in legs:
        if leg["from_number"]:
            assert leg["from_number"][2:] not in text


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error a command printed: one line on stderr, a non-zero exit, no trace."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_simulate_says_what_to_do_when_the_server_refuses_it(server: Server) -> None:
    simulate = ("simulate", "--calls", "3", "--seed", "1")
    other_token = {**server.env, "SWITCHBOARD_TWILIO_AUTH_TOKEN": "not-the-servers-token"}
    refused = switchboard(other_token, *simulate, "--url", server.url)
    assert _one_line_error(refused) == (
        "error: the server refused the signature: start it with the same "
        "SWITCHBOARD_TWILIO_AUTH_TOKEN"
    )
    # The same server by another name: the signature is right, its PUBLIC_URL is not.
    other_name = server.url.replace("127.0.0.1", "localhost")
    elsewhere = switchboard(server.env, *simulate, "--url", other_name)
    assert _one_line_error(elsewhere) == (
        f"error: the server's PUBLIC_URL is not {other_name}: start it with "
        f"SWITCHBOARD_PUBLIC_URL={other_name}, or pass --url with the PUBLIC_URL it has"
    )
    # --verbose shows each webhook as it goes.
    verbose = switchboard(server.env, *simulate, "--url", server.url, "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert verbose.stderr.count("HTTP Request") >= 3


def test_simulate_says_when_no_server_is_running(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = cli_env(
        f"sqlite:///{tmp_path / 'unused.db'}", tmp_path / "var", twilio_auth_token="a-token"
    )
    result = switchboard(env, "simulate", "--calls", "2", "--url", url)
    assert _one_line_error(result) == (
        f"error: no server answers at {url}: start it first (make run, or switchboard "
        "serve), or pass --url with the address it serves"
    )


def test_concurrent_callbacks_for_one_call_over_http(server: Server) -> None:
    parent, child = call_sid(), call_sid()
    statuses = ["initiated", "ringing", "in-progress", "completed"]

    def params(sequence: int, status: str) -> dict[str, str]:
        values = {
            "AccountSid": "AC" + "1" * 32,
            "CallSid": child,
            "ParentCallSid": parent,
            "CallStatus": status,
            "SequenceNumber": str(sequence),
            "Direction": "outbound-dial",
            "From": "+12025550177",
            "To": "client:water",
            "Timestamp": f"Wed, 18 Nov 2026 15:00:0{sequence} +0000",
        }
        if status == "completed":
            values["CallDuration"] = "2"
        return values

    deliveries = [params(seq, status) for seq, status in enumerate(statuses)] * 4
    random.Random(7).shuffle(deliveries)
    url = f"{server.url}/twilio/voice/status"

    async def fire() -> list[int]:
        async with httpx.AsyncClient() as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        url,
                        data=body,
                        headers={"X-Twilio-Signature": sign(TEST_AUTH_TOKEN, url, body)},
                    )
                    for body in deliveries
                )
            )
        return [response.status_code for response in responses]

    assert set(asyncio.run(fire())) == {204}
    got = httpx.get(
        f"{server.url}/api/calls/{child}", headers={"Authorization": f"Bearer {server.token}"}
    ).json()
    assert (got["status"], got["duration_seconds"]) == ("completed", 2)
    assert got["answered_at"] == "2026-11-18T10:00:02-05:00"
    assert got["ended_at"] == "2026-11-18T10:00:03-05:00"
