"""Benchmarks leave nothing behind however they end, and fail when their own checks do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks.scratch import POSTGRES_URL, Scratch, run

ROOT = Path(__file__).parents[1]
pytestmark = pytest.mark.slow


def processes_using(path: Path) -> list[str]:
    """Command lines of this user's processes whose environment names ``path``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if str(path).encode() in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone, or another user's
            continue
    return found


def schema_exists(name: str) -> bool:
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = :name"),
                    {"name": name},
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_benchmark_stopped_midway_leaves_no_files_schemas_or_servers(
    tmp_path: Path, stop: signal.Signals
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    # Far more requests than it will send before the signal: it is stopped while measuring.
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.webhook_ingest", "--requests", "500000"],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        schema = first.split()[2] if first.startswith("PostgreSQL schema") else None
        if os.environ.get("CI") == "true":
            assert schema, first
        assert any(temp.iterdir())
        deadline = time.monotonic() + 120
        # Stop it once the server it measures is up and being driven.
        while not any("bare_app" in line for line in processes_using(temp)):
            assert process.poll() is None and time.monotonic() < deadline, first
            time.sleep(0.2)
        time.sleep(2)
        process.send_signal(stop)
        output = first + process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + stop, output
    assert list(temp.iterdir()) == [], output
    assert processes_using(temp) == []
    if schema:
        assert not schema_exists(schema)


def test_a_failed_check_makes_the_benchmark_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def benchmark(space: Scratch) -> None:
        (space.dir / "data").write_text("x")
        space.check(True, "this one holds")
        space.check(False, "every text reached the carrier")

    with pytest.raises(SystemExit) as exited:
        run("unit", benchmark)
    assert exited.value.code == 1
    assert "CHECK FAILED: every text reached the carrier" in capsys.readouterr().out


def test_the_sms_benchmark_exits_1_when_texts_are_missing(tmp_path: Path) -> None:
    """Given no time to wait for the carrier, its confirmations are not all there."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.sms_throughput",
            "--appointments",
            "6",
            "--failures",
            "1",
            "--wait-seconds",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "CHECK FAILED: every confirmation reached the carrier" in result.stdout
    assert list(tmp_path.iterdir()) == []
