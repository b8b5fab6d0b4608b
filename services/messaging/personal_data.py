"""What texts hold about people: the numbers they go to or come from and every body,
sealed; numbers blind-indexed so a person's texts and opt-out are found."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.messaging.models import InboundText, TextMessage, TextOptOut
from services.messaging.service import OUTBOX, inbound_body
from services.platform.personal_data import (
    APPOINTMENTS,
    PHONES,
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
    purge_older(
        sweep,
        "sms",
        TextMessage,
        TextMessage.created_at,
        held=((TextMessage.to_index, PHONES), (TextMessage.appointment_id, APPOINTMENTS)),
    )
    purge_older(
        sweep, "sms", InboundText, InboundText.received_at, held=((InboundText.from_index, PHONES),)
    )


PERSONAL_DATA = PersonalData(
    feature="messaging",
    sealed=(
        *sealed_fields(TextMessage, TextMessage.idempotency_key, "to", "body", typed=("body",)),
        *sealed_fields(InboundText, InboundText.message_sid, "from", "body", typed=("body",)),
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
    find=find_indexes(PHONES, "phone"),
    export=(
        ExportSection(
            "texts_sent",
            "Text messages we sent you",
            50,
            OUTBOX.sent_to(PHONES, "body"),
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
