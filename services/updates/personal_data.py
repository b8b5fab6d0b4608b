"""What updates hold about people: the number or address each consent names (sealed,
blind-indexed), with when and by whom the consent was taken. A consent goes with its
request: purged when the request is."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from services.platform.personal_data import (
    ExportSection,
    Found,
    Indexed,
    PersonalData,
    find_by_index,
    local_time,
    sealed_fields,
)
from services.requests.models import ServiceRequest
from services.updates.models import UpdateSubscription
from storage.crypto import Keyring

UPDATE_SUBSCRIPTIONS = "update_subscriptions"  # UpdateSubscription ids


def _export(
    session: Session, _keyring: Keyring, found: Found, tz: ZoneInfo
) -> list[dict[str, Any]]:
    rows = found.rows(session, UPDATE_SUBSCRIPTIONS, UpdateSubscription.id, UpdateSubscription.id)
    numbers: dict[int, str] = {}
    if rows:
        pairs = session.execute(
            select(ServiceRequest.id, ServiceRequest.public_id).where(
                ServiceRequest.id.in_({row.request_id for row in rows})
            )
        )
        numbers = {request_id: public_id for request_id, public_id in pairs}
    return [
        {
            "request": numbers.get(row.request_id),
            "channel": row.channel,
            "language": row.language,
            "consent_at": local_time(row.consent_at, tz),
            "withdrawn_at": local_time(row.withdrawn_at, tz),
            "messages": row.messages,
        }
        for row in rows
    ]


PERSONAL_DATA = PersonalData(
    feature="updates",
    # The address or mobile a call taker typed.
    sealed=sealed_fields(
        UpdateSubscription, cast(UpdateSubscription.id, String), "to", typed=("to",)
    ),
    indexes=(
        # Phone numbers (E.164) for texts and email addresses for email, by channel.
        Indexed(UpdateSubscription.to_index, "phone or email"),
    ),
    find=find_by_index(
        UPDATE_SUBSCRIPTIONS,
        UpdateSubscription.id,
        UpdateSubscription.to_index,
        "phone",
        "email",
    ),
    export=(
        ExportSection(
            "request_updates",
            "Updates on requests you asked for",
            45,
            _export,
            columns=(
                ("request", "Request"),
                ("channel", "By"),
                ("consent_at", "Agreed"),
                ("withdrawn_at", "Stopped"),
            ),
        ),
    ),
)
