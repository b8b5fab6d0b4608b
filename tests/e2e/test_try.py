"""``make try`` (``switchboard try``): the whole trial in one command, gone after Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port
from tests.test_benchmarks import processes_using

pytestmark = pytest.mark.slow


def test_try_serves_simulated_calls_shows_searches_and_leaves_nothing_after_ctrl_c() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The operator's own settings must not leak into the throwaway server.
    env = {**os.environ, "SWITCHBOARD_DATABASE_URL": "sqlite:////nonexistent/never.db"}
    process = subprocess.Popen(
        [sys.executable, "-m", "services.app.cli", "try", "--port", str(port), "--calls", "16"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 240
        while not lines or not lines[-1].startswith("The server keeps running"):
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            lines.append(process.stdout.readline())
        output = "".join(lines)
        folder = Path(re.search(r"its data in (\S+)\)", output)[1])  # type: ignore[index]
        assert folder.is_dir()
        assert "0 failed" in output
        searches = re.findall(r"→ (\d+) call legs?", output)
        assert len(searches) == 2 and all(int(found) >= 1 for found in searches), output
        token = re.search(r"Bearer (sb_\S+)'", output)[1]  # type: ignore[index]
        password = re.search(r"password (\S+)\)", output)[1]  # type: ignore[index]
        assert f"The console: {url}/console/" in output
        # What it printed works: the token searches, the password signs in.
        with httpx.Client(base_url=url, timeout=30) as api:
            assert api.get("/api/calls", headers={"Authorization": f"Bearer {token}"}).is_success
            session = api.post("/api/session", json={"username": "trial", "password": password})
            assert session.is_success, session.text
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # a failed test still cleans up through SIGTERM
            process.terminate()
            process.communicate(timeout=60)
    assert process.returncode == 0, errors
    assert rest.strip().endswith("Stopped; nothing is left running or on disk.")
    assert not folder.exists()
    assert processes_using(folder) == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)


def test_try_says_so_when_the_port_is_held() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "services.app.cli", "try", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use by another program: stop it, or serve "
        "on another port with --port (and set SWITCHBOARD_PUBLIC_URL to match)"
    )
    folder = re.search(r"its data in (\S+)\)", result.stdout)[1]  # type: ignore[index]
    assert not Path(folder).exists()
