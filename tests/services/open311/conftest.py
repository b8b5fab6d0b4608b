"""The Open311 tests' fixtures: an API key, issued the way an operator issues one to a
client such as FixMyStreet."""

from __future__ import annotations

import pytest

from services.open311 import api_keys as keys
from services.platform.context import AppContext


@pytest.fixture
def api_key(context: AppContext) -> str:
    with context.db.begin() as session:
        key, _ = keys.issue_key(session, name="FixMyStreet", now=context.clock.now())
    return key
