"""What email holds about people: the addresses mail went to and every message's text,
sealed; addresses blind-indexed so a person's mail and a suppression are found."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.email.models import EmailSuppression, OutgoingEmail
from services.email.service import OUTBOX
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
    purge_older,
    sealed_fields,
)
from storage.crypto import Keyring


def _suppressed(session: Session, _keyring: Keyring, found: Found, _tz: ZoneInfo) -> bool | None:
    if not found[EMAILS]:
        return None
    return bool(found.rows(session, EMAILS, EmailSuppression.email_index))


def _purge(sweep: Sweep) -> None:
    purge_older(
        sweep,
        "email",
        OutgoingEmail,
        OutgoingEmail.created_at,
        held=((OutgoingEmail.to_index, EMAILS),),
    )


PERSONAL_DATA = PersonalData(
    feature="email",
    sealed=sealed_fields(OutgoingEmail, OutgoingEmail.idempotency_key, "to", "subject", "body"),
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
    find=find_indexes(EMAILS, "email"),
    export=(
        ExportSection(
            "emails_sent",
            "Emails we sent you",
            62,
            OUTBOX.sent_to(EMAILS, "subject", "body"),
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
