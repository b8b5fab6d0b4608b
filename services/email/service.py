"""The email outbox, suppressed addresses and unsubscribe tokens.

Addresses and texts are sealed like every other personal field and found by blind
index ("email", the case-folded address, as requests use). An address that bounced for
good or complained is never mailed again. An unsubscribe link names a list and a row by
number with a keyed MAC, so it carries no personal data and cannot be guessed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.email.models import EmailSuppression, OutgoingEmail
from services.platform.errors import InvalidField
from services.platform.outbox import Outbox
from services.requests.text import normalise_email
from storage.crypto import Keyring
from storage.upsert import insert_ignoring_conflicts

SUPPRESSION_REASONS = ("hard_bounce", "complaint")


def email_address(text: str, field: str = "email") -> str:
    """The case-folded address; InvalidField(``field``) when it is not one."""
    try:
        return normalise_email(text)
    except ValueError as exc:
        raise InvalidField(field, str(exc)) from exc


def email_index(keyring: Keyring, address: str) -> bytes:
    return keyring.blind_index("email", address)


# -- unsubscribe links ------------------------------------------------------------------


def _mac(keyring: Keyring, mailing_list: str, row_id: int) -> str:
    digest = hmac.new(
        keyring.derived_key("unsubscribe-link"),
        f"{mailing_list}:{row_id}".encode(),
        hashlib.sha256,
    ).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unsubscribe_token(keyring: Keyring, mailing_list: str, row_id: int) -> str:
    """The token of an unsubscribe link for row ``row_id`` of ``mailing_list``."""
    return f"{row_id}.{_mac(keyring, mailing_list, row_id)}"


def unsubscribe_target(keyring: Keyring, mailing_list: str, token: str) -> int | None:
    """The row an unsubscribe token names, or None for a token that is not genuine."""
    number, _, mac = token.partition(".")
    if not number.isdigit() or len(number) > 18:
        return None
    row_id = int(number)
    return row_id if hmac.compare_digest(mac, _mac(keyring, mailing_list, row_id)) else None


# -- suppression --------------------------------------------------------------------------


def is_suppressed(session: Session, keyring: Keyring, address: str) -> bool:
    return (
        session.scalar(
            select(EmailSuppression.id).where(
                EmailSuppression.email_index == email_index(keyring, address)
            )
        )
        is not None
    )


def suppressed_indexes(session: Session, indexes: list[bytes]) -> set[bytes]:
    if not indexes:
        return set()
    return set(
        session.scalars(
            select(EmailSuppression.email_index).where(EmailSuppression.email_index.in_(indexes))
        )
    )


def suppress(
    session: Session, keyring: Keyring, address: str, *, reason: str, now: datetime
) -> bool:
    """Stop all mail to ``address`` (a hard bounce or a complaint); False when it was
    stopped already. Mail waiting for it is withdrawn."""
    if reason not in SUPPRESSION_REASONS:
        raise InvalidField("reason", f"must be one of {', '.join(SUPPRESSION_REASONS)}")
    index = email_index(keyring, address)
    added = insert_ignoring_conflicts(
        session,
        EmailSuppression,
        {"email_index": index, "reason": reason, "recorded_at": now},
        conflict_columns=["email_index"],
    )
    session.execute(
        update(OutgoingEmail)
        .where(OutgoingEmail.to_index == index, OutgoingEmail.state == "queued")
        .values(state="cancelled", failure=f"the address is suppressed ({reason})", updated_at=now)
    )
    session.flush()
    return added


# -- the outbox ---------------------------------------------------------------------------


OUTBOX = Outbox(OutgoingEmail, waiting=("queued",))


def queue_email(
    session: Session,
    keyring: Keyring,
    *,
    key: str,
    kind: str,
    to: str,
    subject: str,
    body: str,
    language: str,
    unsubscribe_url: str | None,
    now: datetime,
) -> int | None:
    """Put an email in the outbox; its id, or None when ``key`` was queued before or the
    address is suppressed. ``body`` is paragraphs separated by blank lines."""
    if is_suppressed(session, keyring, to):
        return None
    return OUTBOX.queue(
        session,
        keyring,
        key=key,
        sealed={"to": to, "subject": subject, "body": body},
        values={
            "kind": kind,
            "to_index": email_index(keyring, to),
            "unsubscribe_url": unsubscribe_url,
            "language": language,
            "state": "queued",
            "not_before": now,
        },
        now=now,
    )


def recipient(keyring: Keyring, message: OutgoingEmail) -> str:
    return OUTBOX.opened(keyring, message, "to")


def subject_of(keyring: Keyring, message: OutgoingEmail) -> str:
    return OUTBOX.opened(keyring, message, "subject")


def body_of(keyring: Keyring, message: OutgoingEmail) -> str:
    return OUTBOX.opened(keyring, message, "body")
