"""The knowledge base holds no personal data: answers written for the public, and which
staff account changed them (named by id, as everywhere)."""

from __future__ import annotations

from services.knowledge.models import Article, ArticleText, ArticleVersion
from services.platform.personal_data import FreeText, PersonalData

PERSONAL_DATA = PersonalData(
    feature="knowledge",
    free_text=(
        FreeText(Article.department, personal=False),
        FreeText(ArticleText.title, personal=False),
        FreeText(ArticleText.body, personal=False),
        FreeText(ArticleText.keywords, personal=False),
        FreeText(ArticleText.search_head, personal=False),
        FreeText(ArticleText.search_body, personal=False),
        FreeText(ArticleVersion.content, personal=False),
        FreeText(ArticleVersion.changed, personal=False),
    ),
)
