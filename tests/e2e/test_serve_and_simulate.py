"""The whole thing as an operator runs it: the CLI, a real server, signed webhooks over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from telephony.signature import sign
from tests.conftest import MASTER_KEY, TEST_AUTH_TOKEN
from tests.support import call_sid

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def switchboard(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Server:
    url: str
    env: dict[str, str]
    token: str
    log: Path


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_DATA_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_PUBLIC_URL": url,
        "SWITCHBOARD_TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "SWITCHBOARD_MASTER_KEY": MASTER_KEY,
        "SWITCHBOARD_BUSINESS_HOURS": "mon-sun 00:00-24:00",
    }
    assert switchboard(env, "db", "upgrade").returncode == 0
    added = switchboard(
        env,
        "users",
        "add",
        "ana",
        "--role",
        "agent",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    issued = switchboard(env, "tokens", "issue", "ana", "--days", "1")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("sb_") and "\n" not in token
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        else:
            pytest.fail("server did not become ready:\n" + log.read_text())
        yield Server(url, env, token, log)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_simulated_calls_are_found_with_the_right_records(server: Server, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = switchboard(
        server.env,
        "simulate",
        "--url",
        server.url,
        "--calls",
        "40",
        "--seed",
        "311",
        "--concurrency",
        "8",
        "--report",
        str(report),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout
    legs = json.loads(report.read_text())
    assert len(legs) > 40
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers) as api:
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
