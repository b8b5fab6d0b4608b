"""What legal holds hold: the person a hold names (by one of the four search keys),
sealed, and the reasons staff give."""

from __future__ import annotations

from services.platform.personal_data import FreeText, PersonalData, Sealed
from services.retention.models import LegalHold

PERSONAL_DATA = PersonalData(
    feature="retention",
    sealed=(
        Sealed(LegalHold.person_sealed, "legal_holds", "person", LegalHold.public_id, typed=True),
    ),
    free_text=(
        FreeText(LegalHold.reason, personal=True),
        FreeText(LegalHold.release_reason, personal=True),
    ),
)
