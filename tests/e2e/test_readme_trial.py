"""The README's manual trial, pasted in order into one shell, works as written.

The block is taken from README.md as it stands and run by bash in an empty folder that
holds only this checkout's Makefile, pyproject.toml and .venv (so ``make install`` finds
it built); only the port changes, to one that is free.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.test_benchmarks import processes_using

ROOT = Path(__file__).parents[2]
MARKER = "<!-- manual-trial:"
pytestmark = pytest.mark.slow


def manual_trial_block() -> str:
    readme = (ROOT / "README.md").read_text()
    after = readme[readme.index(MARKER) :]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match, "the manual trial block follows its marker"
    return match[1]


def test_the_readme_manual_trial_runs_as_written(tmp_path: Path) -> None:
    stamp = ROOT / ".venv" / ".run-installed"
    if not stamp.exists():
        pytest.skip("the checkout's .venv is not built (make install)")
    block = manual_trial_block()
    port = free_port()
    assert block.count("8000") >= 3
    script = block.replace("8000", str(port))
    folder = tmp_path / "clone"
    folder.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, folder / name)
    # Older than the install stamp, so make sees .venv built and installs nothing here.
    stamp_time = stamp.stat().st_mtime
    os.utime(folder / "pyproject.toml", (stamp_time - 60, stamp_time - 60))
    (folder / ".venv").symlink_to(ROOT / ".venv")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SWITCHBOARD_") and name not in ("MAKEFLAGS", "MAKELEVEL")
    }
    # The server's PUBLIC_URL follows the port (at 8000, the default is right).
    env["SWITCHBOARD_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    # Every step must succeed; a failed one still stops the background server.
    guarded = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script
    try:
        result = subprocess.run(
            ["bash", "-c", guarded],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
    finally:
        # `kill $!` asks the server to stop; it finishes its shutdown on its own.
        deadline = time.monotonic() + 30
        while (leftovers := processes_using(folder)) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert result.returncode == 0, result.stdout + result.stderr + _log(folder)
    out = result.stdout
    assert '{"status":"ok"}' in out
    assert re.search(r"simulated 50 calls .*; 0 failed", out), out
    found = json.loads(out.strip().splitlines()[-1])["items"]
    legs = json.loads((folder / "var" / "simulated.json").read_text())
    expected = {leg["call_sid"] for leg in legs if leg["from_number"] == "+12025550156"}
    assert expected and {item["call_sid"] for item in found} == expected
    assert leftovers == []


def _log(folder: Path) -> str:
    log = folder / "var" / "server.log"
    return log.read_text()[-3000:] if log.exists() else ""
