"""The extension directory holds no personal data: departments and where they ring.
Call offers say where a caller's call rang (an agent or the department), never who
called; they go with the calls they belong to."""

from __future__ import annotations

from services.directory.models import CallOffer, Extension, IvrLine
from services.platform.personal_data import (
    CALLS,
    FreeText,
    PersonalData,
    PurgeStep,
    Sweep,
    purge_older,
)


def _purge_offers(sweep: Sweep) -> None:
    purge_older(
        sweep,
        "call_offers",
        CallOffer,
        CallOffer.offered_at,
        record_class="calls",
        held=((CallOffer.call_sid, CALLS),),
        counted=False,
    )


PERSONAL_DATA = PersonalData(
    feature="directory",
    free_text=(
        FreeText(Extension.destination, personal=False, typed=False),
        FreeText(CallOffer.destination, personal=False, typed=False),
        # Short, but typed by staff: the storage guard screens them too.
        FreeText(Extension.name_en, personal=False),
        FreeText(Extension.name_es, personal=False),
        # How the line answers, typed by administrators.
        FreeText(IvrLine.hours, personal=False),
        FreeText(IvrLine.welcome_en, personal=False),
        FreeText(IvrLine.welcome_es, personal=False),
    ),
    purge=(PurgeStep("calls", 79, _purge_offers),),
)
