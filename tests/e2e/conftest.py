"""A real `switchboard serve` process, set up the way an operator sets one up."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import TEST_AUTH_TOKEN, cli_env, switchboard


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    env: dict[str, str]
    token: str
    log: Path


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra settings for the server under test (override in a module to change them)."""
    return {}


@pytest.fixture
def server(database_url: str, tmp_path: Path, server_env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **cli_env(
            database_url,
            tmp_path / "var",
            public_url=url,
            twilio_auth_token=TEST_AUTH_TOKEN,
            business_hours="mon-sun 00:00-24:00",
        ),
        **server_env,
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
    with serving(env, port, log):
        yield Server(url, env, token, log)


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """``switchboard serve`` on ``port`` until the block ends; its output goes to ``log``."""
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.app.cli", "serve", "--port", str(port)],
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
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)
