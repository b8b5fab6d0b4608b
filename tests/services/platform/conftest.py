"""The platform tests' fixtures: a job queue on each backend the app runs on."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from huey.api import Huey

from services.platform.queue import make_huey


@pytest.fixture(params=["embedded", "redis"])
def huey(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Huey]:
    """The embedded queue (SQLite, in the data folder) or one on Redis under a name of
    its own; emptied after the test."""
    if request.param == "embedded":
        queue = make_huey(None, tmp_path)
    else:
        url: str = request.getfixturevalue("redis_url")
        queue = make_huey(url, tmp_path, name=f"test-{secrets.token_hex(4)}")
    yield queue
    queue.flush()
