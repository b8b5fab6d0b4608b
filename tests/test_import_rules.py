"""The import rules of docs/architecture.md hold, and breaking one fails ``make lint``.

``lint-imports`` reads the contracts in pyproject.toml. The second test copies the tree,
adds one forbidden import of each kind, and checks that the linter refuses each.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_import_rule() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_feature_folder_is_under_every_rule() -> None:
    """A feature the contracts do not name escapes them silently: each contract lists
    every folder services.app.features finds."""
    from services.app.features import feature_names

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    features = {f"services.{name}" for name in feature_names()}
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    feature_layer = next(layer for layer in layers if "services.requests" in layer)
    assert {name.strip() for name in feature_layer.split(":")} == features
    for contract in contracts:
        if contract["type"] == "forbidden" and "services.requests" in contract["source_modules"]:
            missing = features - set(contract["source_modules"])
            assert not missing, f"{contract['name']}: {sorted(missing)}"


@pytest.mark.parametrize(
    ("module", "line", "rule"),
    [
        ("services/calls/service.py", "import telephony.twiml", "One-way flow"),
        ("services/platform/errors.py", "import services.staff.service", "One-way flow"),
        ("storage/db.py", "import services.platform.clock", "One-way flow"),
        ("services/reports/service.py", "import services.requests.api", "never their routes"),
        ("services/messaging/service.py", "import twilio.rest", "Only telephony speaks Twilio"),
        ("services/calls/service.py", "import services.platform.settings", "reads the settings"),
    ],
)
def test_a_forbidden_import_breaks_the_lint(
    tmp_path: Path, module: str, line: str, rule: str
) -> None:
    for package in ("services", "telephony", "storage"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{line}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(rule in row for row in broken), result.stdout
