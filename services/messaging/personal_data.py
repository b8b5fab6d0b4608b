"""What texts hold about people: the numbers they go to or come from and every body,
sealed; numbers blind-indexed so a person's texts and opt-out are found."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.messaging.models import InboundText, TextMessage, TextOptOut
from services.messaging.service import body_of, inbound_body
from services.platform.personal_data import (
    APPOINTMENTS,
    PHONES,
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
    phone_indexes,
)
from storage.crypto import Keyring


def _find(session: Session, keyring: Keyring, keys: Sequence[PersonKey], found: Found) -> None:
    found.add(PHONES, phone_indexes(keyring, keys))


def _sent(session: Session, keyring: Keyring, found: Found, tz: ZoneInfo) -> list[dict[str, Any]]:
    texts = found.rows(
        session, PHONES, TextMessage.to_index, TextMessage.created_at, TextMessage.id
    )
    return [
        {
            "kind": text.kind,
            "queued_at": local_time(text.created_at, tz),
            "state": text.state,
            "body": body_of(keyring, text),
        }
        for text in texts
    ]


def _received(
    session: Session, keyring: Keyring, found: Found, tz: ZoneInfo
) -> list[dict[str, Any]]:
    texts = found.rows(
        session, PHONES, InboundText.from_index, InboundText.received_at, InboundText.id
    )
    return [
        {"received_at": local_time(text.received_at, tz), "body": inbound_body(keyring, text)}
        for text in texts
    ]


def _opted_out(session: Session, _keyring: Keyring, found: Found, _tz: ZoneInfo) -> bool | None:
    if not found[PHONES]:
        return None  # no number of theirs, so nothing to say either way
    opt_outs = found.rows(session, PHONES, TextOptOut.phone_index)
    return any(opt_out.opted_out for opt_out in opt_outs)


def _purge(sweep: Sweep) -> None:
    cutoff = sweep.cutoff("sms")
    sweep.walk(
        "sms",
        select(TextMessage.id, TextMessage.to_index, TextMessage.appointment_id).where(
            TextMessage.created_at < cutoff
        ),
        TextMessage.id,
        delete_rows(TextMessage, TextMessage.id),
        keep=lambda row: row[1] in sweep.held[PHONES] or row[2] in sweep.held[APPOINTMENTS],
    )
    sweep.walk(
        "sms",
        select(InboundText.id, InboundText.from_index).where(InboundText.received_at < cutoff),
        InboundText.id,
        delete_rows(InboundText, InboundText.id),
        keep=lambda row: row[1] in sweep.held[PHONES],
    )


PERSONAL_DATA = PersonalData(
    feature="messaging",
    sealed=(
        Sealed(TextMessage.to_sealed, "text_messages", "to", TextMessage.idempotency_key),
        Sealed(
            TextMessage.body_sealed,
            "text_messages",
            "body",
            TextMessage.idempotency_key,
            typed=True,
        ),
        Sealed(InboundText.from_sealed, "inbound_texts", "from", InboundText.message_sid),
        Sealed(
            InboundText.body_sealed, "inbound_texts", "body", InboundText.message_sid, typed=True
        ),
    ),
    indexes=(
        Indexed(TextMessage.to_index, "phone"),
        Indexed(InboundText.from_index, "phone"),
        Indexed(TextOptOut.phone_index, "phone"),
    ),
    free_text=(
        FreeText(TextMessage.idempotency_key, personal=False, typed=False),
        FreeText(TextMessage.failure, personal=False, typed=False),
    ),
    record_classes=(RecordClass("sms", "texts sent and received", "the text", 1, "years"),),
    purge=(PurgeStep("sms", 60, _purge),),
    find=_find,
    export=(
        ExportSection(
            "texts_sent",
            "Text messages we sent you",
            50,
            _sent,
            columns=(("queued_at", "Queued"), ("state", "State"), ("body", "Text")),
        ),
        ExportSection(
            "texts_opted_out",
            "Texts",
            55,
            _opted_out,
            note="Your number has opted out of our texts.",
        ),
        ExportSection(
            "texts_received",
            "Text messages you sent us",
            60,
            _received,
            columns=(("received_at", "Received"), ("body", "Text")),
        ),
    ),
)
