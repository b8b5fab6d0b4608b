"""The package's metadata installs without setuptools' deprecation warnings."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())


def test_the_license_is_an_spdx_expression_that_the_build_backend_reads() -> None:
    # A table ({text = …}) makes every install print setuptools' deprecation notice.
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    backend = next(
        Requirement(spec)
        for spec in PYPROJECT["build-system"]["requires"]
        if Requirement(spec).name == "setuptools"
    )
    # setuptools reads an SPDX string from 77 on; older ones refuse it.
    assert not any(backend.specifier.contains(f"76.{minor}") for minor in range(3))
    assert backend.specifier.contains(Version("77.0.3"))
