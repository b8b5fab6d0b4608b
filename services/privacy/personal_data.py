"""What access-and-correction requests hold: who asked (sealed), what was checked to
confirm who they are, and the reasons given for the decision."""

from __future__ import annotations

from services.platform.personal_data import FreeText, PersonalData, Sealed
from services.privacy.models import PrivacyRequest

PERSONAL_DATA = PersonalData(
    feature="privacy",
    sealed=(
        Sealed(
            PrivacyRequest.requester_sealed,
            "privacy_requests",
            "requester",
            PrivacyRequest.public_id,
            typed=True,
        ),
    ),
    free_text=(
        FreeText(PrivacyRequest.identity_evidence, personal=True),
        FreeText(PrivacyRequest.decision_reason, personal=True),
        FreeText(PrivacyRequest.kinds, personal=False, typed=False),
    ),
)
