"""Key rotation without downtime, and re-wrapping under a new master key.

Rotation: a new data key becomes active and the old ones retire (they still open what
they sealed). Every sealed field is then re-sealed under the new key in small batches,
each its own transaction, so webhooks and staff keep working throughout. Processes
re-read the active key every minute, so a second sweep after that settles catches any
value another process sealed with the old key meanwhile. Only when no value is left
under a retired key is that key destroyed.

The list of sealed fields below is the one place that knows them all; a new sealed
column must be added here, and tests/services/test_keys.py checks that none is missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.appointments.models import Appointment
from services.calls.models import Call
from services.messaging.models import InboundText, TextMessage
from services.privacy.models import PrivacyRequest
from services.recordings.models import Recording
from services.requests.models import RequestContact, ServiceRequest
from services.retention.models import LegalHold
from services.staff.models import StaffUser
from storage.crypto import FieldContext, Keyring, MasterKey
from storage.keystore import EncryptionKey

BATCH = 500
RowQuery = Any  # a SELECT of (primary key, row key for the AAD, sealed value)


@dataclass(frozen=True)
class SealedField:
    """A column of sealed values and how to name each value's place (its AAD)."""

    name: str
    model: type
    column: str
    place: str  # FieldContext table
    field: str  # FieldContext column
    rows: Callable[[int], RowQuery]


def _calls(column: str) -> Callable[[int], RowQuery]:
    def rows(after: int) -> RowQuery:
        return (
            select(Call.id, Call.call_sid, getattr(Call, column))
            .where(Call.id > after)
            .order_by(Call.id)
            .limit(BATCH)
        )

    return rows


def _contacts(column: str) -> Callable[[int], RowQuery]:
    def rows(after: int) -> RowQuery:
        return (
            select(RequestContact.id, ServiceRequest.public_id, getattr(RequestContact, column))
            .join(ServiceRequest, ServiceRequest.id == RequestContact.request_id)
            .where(RequestContact.id > after)
            .order_by(RequestContact.id)
            .limit(BATCH)
        )

    return rows


def _by(model: Any, row_key: str, column: str) -> Callable[[int], RowQuery]:
    def rows(after: int) -> RowQuery:
        return (
            select(model.id, getattr(model, row_key), getattr(model, column))
            .where(model.id > after)
            .order_by(model.id)
            .limit(BATCH)
        )

    return rows


def _totp(after: int) -> RowQuery:

    return (
        select(
            StaffUser.id, cast(StaffUser.id, String).label("row_key"), StaffUser.totp_secret_sealed
        )
        .where(StaffUser.id > after)
        .order_by(StaffUser.id)
        .limit(BATCH)
    )


SEALED_FIELDS: tuple[SealedField, ...] = (
    SealedField("call caller number", Call, "from_sealed", "calls", "from", _calls("from_sealed")),
    SealedField("call called number", Call, "to_sealed", "calls", "to", _calls("to_sealed")),
    SealedField(
        "call caller id text",
        Call,
        "from_unparsed",
        "calls",
        "from_unparsed",
        _calls("from_unparsed"),
    ),
    SealedField(
        "call caller name",
        Call,
        "caller_name_sealed",
        "calls",
        "caller_name",
        _calls("caller_name_sealed"),
    ),
    SealedField(
        "contact name",
        RequestContact,
        "name_sealed",
        "request_contacts",
        "name",
        _contacts("name_sealed"),
    ),
    SealedField(
        "contact phone",
        RequestContact,
        "phone_sealed",
        "request_contacts",
        "phone",
        _contacts("phone_sealed"),
    ),
    SealedField(
        "contact email",
        RequestContact,
        "email_sealed",
        "request_contacts",
        "email",
        _contacts("email_sealed"),
    ),
    SealedField(
        "contact address",
        RequestContact,
        "address_sealed",
        "request_contacts",
        "address",
        _contacts("address_sealed"),
    ),
    SealedField(
        "appointment place",
        Appointment,
        "location_sealed",
        "appointments",
        "location",
        _by(Appointment, "public_id", "location_sealed"),
    ),
    SealedField(
        "appointment phone",
        Appointment,
        "phone_sealed",
        "appointments",
        "phone",
        _by(Appointment, "public_id", "phone_sealed"),
    ),
    SealedField(
        "text recipient",
        TextMessage,
        "to_sealed",
        "text_messages",
        "to",
        _by(TextMessage, "idempotency_key", "to_sealed"),
    ),
    SealedField(
        "text body",
        TextMessage,
        "body_sealed",
        "text_messages",
        "body",
        _by(TextMessage, "idempotency_key", "body_sealed"),
    ),
    SealedField(
        "inbound text sender",
        InboundText,
        "from_sealed",
        "inbound_texts",
        "from",
        _by(InboundText, "message_sid", "from_sealed"),
    ),
    SealedField(
        "inbound text body",
        InboundText,
        "body_sealed",
        "inbound_texts",
        "body",
        _by(InboundText, "message_sid", "body_sealed"),
    ),
    SealedField(
        "staff second factor", StaffUser, "totp_secret_sealed", "staff_users", "totp", _totp
    ),
    SealedField(
        "legal hold person",
        LegalHold,
        "person_sealed",
        "legal_holds",
        "person",
        _by(LegalHold, "public_id", "person_sealed"),
    ),
    SealedField(
        "privacy request requester",
        PrivacyRequest,
        "requester_sealed",
        "privacy_requests",
        "requester",
        _by(PrivacyRequest, "public_id", "requester_sealed"),
    ),
)


def _sealed_values(
    db: sessionmaker[Session], sealed: SealedField
) -> Iterator[list[tuple[int, str, bytes | None]]]:
    after = 0
    while True:
        with db() as session:
            batch = [
                (int(pk), str(key), value) for pk, key, value in session.execute(sealed.rows(after))
            ]
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def start_rotation(session: Session, keyring: Keyring, *, now: datetime) -> int:
    """Retire the active data key(s) and make a new one active; returns its id."""
    session.execute(
        update(EncryptionKey)
        .where(EncryptionKey.purpose == "data", EncryptionKey.state == "active")
        .values(state="retired", retired_at=now)
    )
    key = EncryptionKey(
        purpose="data",
        state="active",
        wrapped_key=keyring.new_wrapped_data_key(),
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key.id


def reseal(db: sessionmaker[Session], keyring: Keyring) -> dict[str, int]:
    """Re-seal every value not under the active key, batch by batch; counts per field."""
    keyring.forget()
    active = keyring.active_data_key_id()
    counts: dict[str, int] = {}
    for sealed in SEALED_FIELDS:
        done = 0
        for batch in _sealed_values(db, sealed):
            with db.begin() as session:
                for pk, row_key, value in batch:
                    if value is None or Keyring.key_id_of(value) == active:
                        continue
                    place = FieldContext(sealed.place, sealed.field, row_key)
                    fresh = keyring.seal(keyring.open(value, place), place)
                    model = sealed.model
                    column = getattr(model, sealed.column)
                    # Only if unchanged meanwhile; a value rewritten by others is checked again.
                    result = session.execute(
                        update(model)
                        .where(model.id == pk, column == value)  # type: ignore[attr-defined]
                        .values({sealed.column: fresh})
                    )
                    done += int(getattr(result, "rowcount", 0) or 0)
        counts[sealed.name] = done
    return counts


def values_under_retired_keys(db: sessionmaker[Session], keyring: Keyring) -> int:
    with db() as session:
        retired = set(
            session.scalars(
                select(EncryptionKey.id).where(
                    EncryptionKey.purpose == "data", EncryptionKey.state == "retired"
                )
            )
        )
    left = 0
    for sealed in SEALED_FIELDS:
        for batch in _sealed_values(db, sealed):
            left += sum(
                1 for _pk, _key, value in batch if value and Keyring.key_id_of(value) in retired
            )
    return left


def finish_rotation(session: Session, *, now: datetime) -> list[int]:
    """Destroy the retired data keys (call only when nothing is sealed under them)."""
    retired = list(
        session.scalars(
            select(EncryptionKey).where(
                EncryptionKey.purpose == "data", EncryptionKey.state == "retired"
            )
        )
    )
    for key in retired:
        key.state, key.wrapped_key = "destroyed", None
        key.retired_at = key.retired_at or now
    session.flush()
    return [key.id for key in retired]


def rewrap(session: Session, old: MasterKey, new: MasterKey) -> int:
    """Re-wrap every stored key (data keys, the index root, each recording's key) under
    a new master key; returns how many."""
    count = 0
    for recording in session.scalars(select(Recording).where(Recording.wrapped_key.is_not(None))):
        assert recording.wrapped_key is not None
        plain = old.unwrap(recording.wrapped_key, purpose="recording")
        recording.wrapped_key = new.wrap(plain, purpose="recording")
        count += 1
    for key in session.scalars(select(EncryptionKey).where(EncryptionKey.wrapped_key.is_not(None))):
        assert key.wrapped_key is not None
        key.wrapped_key = new.wrap(
            old.unwrap(key.wrapped_key, purpose=key.purpose), purpose=key.purpose
        )
        count += 1
    session.flush()
    return count
