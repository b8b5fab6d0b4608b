"""Everything the city holds about a person, found the way agents find it: by phone,
email, name and home address through the blind indexes, each candidate confirmed by
decryption; then what those records reach (a request's calls, a call's recordings).
Every feature's entry in the personal-data registry says how its rows are found and
what the export shows of them. Anonymous requests hold nothing that could match
anyone, so they are never found; the letters say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.platform.personal_data import ExportSection, PersonKey, Registry
from services.privacy.service import Requester
from services.requests.service import normalised_term
from storage.crypto import Keyring

NOT_INCLUDED = (
    "Requests made anonymously are not included: the city keeps no name, number, email, "
    "address or call with them, so they cannot be matched to anyone, including you."
)


@dataclass
class Holdings:
    """What was found, section by section, in the registry's order."""

    searched_by: list[str]
    sections: list[ExportSection] = field(default_factory=list)
    found: dict[str, Any] = field(default_factory=dict)
    not_included: str = NOT_INCLUDED

    def rows(self, name: str) -> Any:
        return self.found.get(name)

    @property
    def service_requests(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.found.get("service_requests") or []
        return rows

    def counts(self) -> dict[str, int]:
        """How many records of each listed kind (facts such as an opt-out are left out)."""
        return {name: len(rows) for name, rows in self.found.items() if isinstance(rows, list)}

    def as_dict(self) -> dict[str, Any]:
        return {"searched_by": self.searched_by, **self.found, "not_included": self.not_included}


def find_holdings(
    session: Session,
    keyring: Keyring,
    requester: Requester,
    *,
    region: str,
    tz: ZoneInfo,
    registry: Registry,
) -> Holdings:
    """Everything held about ``requester``, found by every key they gave."""
    keys = requester.keys()
    person = [PersonKey(key.kind, normalised_term(key, region)) for key in keys]
    reached = registry.reach(session, keyring, people=[person])
    holdings = Holdings(searched_by=[key.kind for key in keys])
    for section in registry.export_sections():
        holdings.sections.append(section)
        holdings.found[section.name] = section.rows(session, keyring, reached, tz)
    return holdings
