"""The extension directory holds no personal data: departments and where they ring."""

from __future__ import annotations

from services.directory.models import Extension
from services.platform.personal_data import FreeText, PersonalData

PERSONAL_DATA = PersonalData(
    feature="directory",
    free_text=(
        FreeText(Extension.destination, personal=False, typed=False),
        # Short, but typed by staff: the storage guard screens them too.
        FreeText(Extension.name_en, personal=False),
        FreeText(Extension.name_es, personal=False),
    ),
)
