"""What the disclosure log holds: who asked for records and why; the records themselves
are named by their ids."""

from __future__ import annotations

from services.disclosures.models import Disclosure
from services.platform.personal_data import FreeText, PersonalData

PERSONAL_DATA = PersonalData(
    feature="disclosures",
    free_text=(
        FreeText(Disclosure.requested_by, personal=True),
        FreeText(Disclosure.description, personal=True),
        FreeText(Disclosure.reference, personal=False),
        # Ids, each checked by its pattern: not text a person typed.
        FreeText(Disclosure.records, personal=False, typed=False),
    ),
)
