"""What news alerts hold about people: confirmed subscribers' addresses (sealed and
blind-indexed) with their consent record, and for a sign-up not yet confirmed only a
keyed hash of the address. Alerts themselves are the city's words, counted in total."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast
from sqlalchemy.orm import Session

from services.alerts.models import Alert, AlertSignup, AlertSubscriber
from services.platform.personal_data import (
    EMAILS,
    ExportSection,
    Found,
    FreeText,
    Indexed,
    PersonalData,
    PurgeStep,
    RecordClass,
    Sweep,
    find_indexes,
    local_time,
    purge_older,
    sealed_fields,
)
from storage.crypto import Keyring


def _subscription(
    session: Session, _keyring: Keyring, found: Found, tz: ZoneInfo
) -> list[dict[str, Any]]:
    rows = found.rows(session, EMAILS, AlertSubscriber.email_index, AlertSubscriber.id)
    return [
        {
            "language": row.language,
            "signed_up_at": local_time(row.signed_up_at, tz),
            "confirmed_at": local_time(row.confirmed_at, tz),
        }
        for row in rows
    ]


def _purge(sweep: Sweep) -> None:
    # Unconfirmed sign-ups go once expired; subscribers when their consent is this old
    # (they may sign up again); alerts' texts and counts with the service logs.
    purge_older(sweep, "alert_signups", AlertSignup, AlertSignup.expires_at)
    purge_older(
        sweep,
        "alert_subscribers",
        AlertSubscriber,
        AlertSubscriber.confirmed_at,
        held=((AlertSubscriber.email_index, EMAILS),),
    )
    purge_older(sweep, "alert_counts", Alert, Alert.created_at, where=[Alert.state == "sent"])


PERSONAL_DATA = PersonalData(
    feature="alerts",
    # The address a person typed to sign up.
    sealed=sealed_fields(
        AlertSubscriber, cast(AlertSubscriber.id, String), "email", typed=("email",)
    ),
    indexes=(
        Indexed(AlertSubscriber.email_index, "email"),
        Indexed(AlertSignup.email_index, "email"),
    ),
    free_text=(
        FreeText(Alert.subject, personal=False),
        FreeText(Alert.body, personal=False),
        FreeText(Alert.subject_es, personal=False),
        FreeText(Alert.body_es, personal=False),
    ),
    record_classes=(
        RecordClass("alert_signups", "unconfirmed alert sign-ups", "the link's expiry", 1, "days"),
        RecordClass(
            "alert_subscribers", "news-alert subscriptions", "the confirmation", 5, "years"
        ),
        RecordClass(
            "alert_counts",
            "news alerts and their open counts (service logs)",
            "the alert",
            1,
            "months",
            longest=(1, "months"),
        ),
    ),
    purge=(
        PurgeStep("alert_signups", 64, _purge),
        PurgeStep("alert_subscribers", 65, lambda sweep: None),
        PurgeStep("alert_counts", 66, lambda sweep: None),
    ),
    find=find_indexes(EMAILS, "email"),
    export=(
        ExportSection(
            "alert_subscription",
            "News alerts",
            64,
            _subscription,
            columns=(
                ("signed_up_at", "Signed up"),
                ("confirmed_at", "Confirmed"),
                ("language", "Language"),
            ),
        ),
    ),
)
