"""What email holds about people: the addresses mail went to and every message's text,
sealed; addresses blind-indexed so a person's mail and a suppression are found."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.email.models import EmailSuppression, OutgoingEmail
from services.email.service import body_of, subject_of
from services.platform.personal_data import (
    ExportSection,
    Found,
    FreeText,
    Indexed,
    PersonalData,
    PersonKey,
    PurgeStep,
    RecordClass,
    Sealed,
    Sweep,
    delete_rows,
    local_time,
)
from storage.crypto import Keyring

EMAILS = "emails"  # blind indexes of email addresses


def email_indexes(keyring: Keyring, keys: Sequence[PersonKey]) -> list[bytes]:
    return [keyring.blind_index("email", key.term) for key in keys if key.kind == "email"]


def _find(session: Session, keyring: Keyring, keys: Sequence[PersonKey], found: Found) -> None:
    found.add(EMAILS, email_indexes(keyring, keys))


def _sent(session: Session, keyring: Keyring, found: Found, tz: ZoneInfo) -> list[dict[str, Any]]:
    rows = found.rows(
        session, EMAILS, OutgoingEmail.to_index, OutgoingEmail.created_at, OutgoingEmail.id
    )
    return [
        {
            "kind": row.kind,
            "queued_at": local_time(row.created_at, tz),
            "state": row.state,
            "subject": subject_of(keyring, row),
            "body": body_of(keyring, row),
        }
        for row in rows
    ]


def _suppressed(session: Session, _keyring: Keyring, found: Found, _tz: ZoneInfo) -> bool | None:
    if not found[EMAILS]:
        return None
    return bool(found.rows(session, EMAILS, EmailSuppression.email_index))


def _purge(sweep: Sweep) -> None:
    cutoff = sweep.cutoff("email")
    sweep.walk(
        "email",
        select(OutgoingEmail.id, OutgoingEmail.to_index).where(OutgoingEmail.created_at < cutoff),
        OutgoingEmail.id,
        delete_rows(OutgoingEmail, OutgoingEmail.id),
        keep=lambda row: row[1] in sweep.held[EMAILS],
    )


PERSONAL_DATA = PersonalData(
    feature="email",
    sealed=(
        Sealed(OutgoingEmail.to_sealed, "outgoing_emails", "to", OutgoingEmail.idempotency_key),
        Sealed(
            OutgoingEmail.subject_sealed,
            "outgoing_emails",
            "subject",
            OutgoingEmail.idempotency_key,
        ),
        Sealed(OutgoingEmail.body_sealed, "outgoing_emails", "body", OutgoingEmail.idempotency_key),
    ),
    indexes=(
        Indexed(OutgoingEmail.to_index, "email"),
        # Kept for as long as the city sends mail: the one record that stops it.
        Indexed(EmailSuppression.email_index, "email"),
    ),
    free_text=(
        FreeText(OutgoingEmail.idempotency_key, personal=False, typed=False),
        FreeText(OutgoingEmail.failure, personal=False, typed=False),  # the server's words
        FreeText(OutgoingEmail.unsubscribe_url, personal=False, typed=False),  # a signed token
    ),
    record_classes=(RecordClass("email", "emails sent to callers", "the email", 1, "years"),),
    purge=(PurgeStep("email", 62, _purge),),
    find=_find,
    export=(
        ExportSection(
            "emails_sent",
            "Emails we sent you",
            62,
            _sent,
            columns=(("queued_at", "Queued"), ("state", "State"), ("subject", "Subject")),
        ),
        ExportSection(
            "emails_suppressed",
            "Email",
            63,
            _suppressed,
            note="Your address bounced or complained: we send it no mail.",
        ),
    ),
)
