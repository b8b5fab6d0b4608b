"""Staff roles."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"
    KNOWLEDGE_EDITOR = "knowledge_editor"
    COMMUNICATIONS = "communications"
