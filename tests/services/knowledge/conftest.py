"""The knowledge base's fixtures: an editor, and the starter set loaded the way an
operator loads it (one import, audited as the system)."""

from __future__ import annotations

import json

import pytest

from services.knowledge import actions
from services.knowledge.schemas import ArticleIn
from services.knowledge.service import STARTER_SET
from services.platform import audit
from services.platform.context import AppContext
from services.platform.roles import Role
from tests.support import StaffFactory


@pytest.fixture
def editor(staff: StaffFactory) -> dict[str, str]:
    return staff.headers(Role.KNOWLEDGE_EDITOR, "kim")


@pytest.fixture
def starter_rows() -> list[ArticleIn]:
    return [ArticleIn.model_validate(row) for row in json.loads(STARTER_SET.read_text("utf-8"))]


@pytest.fixture
def starter(context: AppContext, starter_rows: list[ArticleIn]) -> list[ArticleIn]:
    actions.import_articles(context, audit.SYSTEM, starter_rows)
    return starter_rows
