"""The test helper that runs `switchboard` in a forked child behaves as a fresh process."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests import cli_fork
from tests.support import switchboard

SHOW = """
import os, random, sys
print(os.environ.get("PROBE"), os.getcwd(), random.random(), sys.stdin.read().strip())
print("to stderr", file=sys.stderr)
"""


def test_each_command_gets_its_own_environment_folder_stdin_and_random_state() -> None:
    env = {**os.environ, "PROBE": "first"}
    one = cli_fork.run(env, [], "typed", timeout=30, code=SHOW)
    two = cli_fork.run({**os.environ}, [], None, timeout=30, code=SHOW)
    probe, folder, number, typed = one.stdout.split()
    assert (one.returncode, probe, folder, typed) == (0, "first", os.getcwd(), "typed")
    assert one.stderr == "to stderr\n"
    assert two.stdout.split()[0] == "None"  # nothing of the first run's environment is left
    assert two.stdout.split()[2] != number  # nor its random state


def test_exit_codes_and_errors_are_those_of_a_process() -> None:
    assert cli_fork.run(dict(os.environ), [], None, 30, code="raise SystemExit(3)").returncode == 3
    failed = cli_fork.run(dict(os.environ), [], None, 30, code="raise ValueError('boom')")
    assert failed.returncode == 1 and "ValueError: boom" in failed.stderr
    unknown = switchboard(dict(os.environ), "no-such-command")
    assert unknown.returncode == 2 and "usage: switchboard" in unknown.stderr


def test_a_long_running_command_is_signalled_and_reaped(tmp_path: Path) -> None:
    log = tmp_path / "log"
    code = "import time; print('up', flush=True); time.sleep(60)"
    process = cli_fork._server().start(
        dict(os.environ),
        [],
        None,
        {"stdin": log.with_suffix(".in"), "stdout": log, "stderr": log},
        code,
    )
    deadline = time.monotonic() + 10
    while not (log.exists() and "up" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None
    process.terminate()
    assert process.wait(timeout=10) == -15
