"""The text outbox, opt-outs, delivery status and texts from callers.

Numbers and bodies are sealed like every other personal field (the body may name the
appointment's place), and found by blind index. A number that said STOP is never sent
to again until it says START.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.messaging.models import InboundText, TextMessage, TextOptOut
from services.platform.outbox import Outbox
from storage.crypto import FieldContext, Keyring
from storage.upsert import insert_ignoring_conflicts

OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
OPT_IN = frozenset({"start", "yes", "unstop"})
HELP = frozenset({"help", "info", "ayuda"})
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "read": 4,
}
UNSUBSCRIBED = "21610"


def keyword_of(body: str) -> str | None:
    """The keyword a text consists of, case-insensitive and trimmed; None otherwise."""
    word = re.sub(r"^[\s\W_]+|[\s\W_]+$", "", body).casefold()
    return word if word in OPT_OUT | OPT_IN | HELP else None


@dataclass(frozen=True)
class QuietHours:
    """No texts between ``starts`` and ``ends`` in the city's time (overnight allowed)."""

    starts: time
    ends: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> QuietHours:
        match = re.fullmatch(r"\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*", text)
        if match is None:
            raise ValueError("quiet hours look like 21:00-08:00")
        return cls(time.fromisoformat(match[1]), time.fromisoformat(match[2]), tz)

    def quiet(self, instant: datetime) -> bool:
        now = instant.astimezone(self.tz).time()
        if self.starts <= self.ends:
            return self.starts <= now < self.ends
        return now >= self.starts or now < self.ends

    def release(self, instant: datetime) -> datetime:
        """``instant``, or the end of the quiet hours it falls in."""
        if not self.quiet(instant):
            return instant
        local = instant.astimezone(self.tz)
        end = local.replace(hour=self.ends.hour, minute=self.ends.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(instant.tzinfo)


OUTBOX = Outbox(TextMessage, waiting=("queued", "held"))


def queue_text(
    session: Session,
    keyring: Keyring,
    *,
    key: str,
    kind: str,
    to: str,
    body: str,
    language: str,
    appointment_id: int | None,
    not_before: datetime,
    now: datetime,
) -> int | None:
    """Put a text in the outbox; returns its id, or None when ``key`` was queued before."""
    return OUTBOX.queue(
        session,
        keyring,
        key=key,
        sealed={"to": to, "body": body},
        values={
            "appointment_id": appointment_id,
            "kind": kind,
            "to_index": keyring.blind_index("phone", to),
            "language": language,
            "state": "held" if not_before > now else "queued",
            "not_before": not_before,
        },
        now=now,
    )


def recipient(keyring: Keyring, message: TextMessage) -> str:
    return OUTBOX.opened(keyring, message, "to")


def body_of(keyring: Keyring, message: TextMessage) -> str:
    return OUTBOX.opened(keyring, message, "body")


def texts_about(session: Session, appointment_id: int) -> list[TextMessage]:
    """The texts queued about an appointment, oldest first."""
    return list(
        session.scalars(
            select(TextMessage)
            .where(TextMessage.appointment_id == appointment_id)
            .order_by(TextMessage.id)
        )
    )


def ready(session: Session, message_ids: list[int], *, now: datetime) -> list[int]:
    """Those of ``message_ids`` whose time has come (not held for quiet hours or later)."""
    if not message_ids:
        return []
    return list(
        session.scalars(
            select(TextMessage.id).where(
                TextMessage.id.in_(message_ids), TextMessage.not_before <= now
            )
        )
    )


def cancel_pending(
    session: Session, *, appointment_id: int, kinds: tuple[str, ...], now: datetime
) -> int:
    """Withdraw texts not yet sent (a reminder for a moved or cancelled appointment)."""
    result = session.execute(
        update(TextMessage)
        .where(
            TextMessage.appointment_id == appointment_id,
            TextMessage.kind.in_(kinds),
            TextMessage.state.in_(("queued", "held")),
        )
        .values(state="cancelled", failure="withdrawn", updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def is_opted_out(session: Session, keyring: Keyring, number: str) -> bool:
    row = session.scalar(
        select(TextOptOut).where(TextOptOut.phone_index == keyring.blind_index("phone", number))
    )
    return row is not None and row.opted_out


def apply_keyword(
    session: Session,
    keyring: Keyring,
    number: str,
    *,
    opted_out: bool,
    received_at: datetime,
    now: datetime,
) -> bool:
    """A STOP (``opted_out``) or START the carrier received at ``received_at``: it
    decides the number's state unless a later one already has. False when it was older
    than the state's decision and so changed nothing."""
    return set_opt_out(
        session,
        keyring,
        number,
        opted_out=opted_out,
        source="keyword",
        now=now,
        decided_at=received_at,
    )


def set_opt_out(
    session: Session,
    keyring: Keyring,
    number: str,
    *,
    opted_out: bool,
    source: str,
    now: datetime,
    decided_at: datetime | None = None,
) -> bool:
    """Opt a number out or back in, as of ``decided_at`` (when the carrier received what
    decided it; ``now`` by default). An older decision than the one in force changes
    nothing (returns False)."""
    decided_at = decided_at or now
    index = keyring.blind_index("phone", number)
    row = session.scalars(
        select(TextOptOut).where(TextOptOut.phone_index == index).with_for_update()
    ).one_or_none()
    if row is None:
        session.add(
            TextOptOut(
                phone_index=index,
                opted_out=opted_out,
                source=source,
                changed_at=now,
                decided_at=decided_at,
            )
        )
    elif row.decided_at is not None and decided_at < row.decided_at:
        return False
    else:
        row.opted_out, row.source, row.changed_at = opted_out, source, now
        row.decided_at = decided_at
    if opted_out:
        session.execute(
            update(TextMessage)
            .where(TextMessage.to_index == index, TextMessage.state.in_(("queued", "held")))
            .values(state="cancelled", failure="the number opted out", updated_at=now)
        )
    session.flush()
    return True


def record_status(
    session: Session,
    keyring: Keyring,
    *,
    message_sid: str,
    status: str,
    error_code: str | None,
    now: datetime,
) -> bool:
    """Fold a delivery status callback into its text; False when it changed nothing.
    A final status is never downgraded; error 21610 also opts the number out."""
    message = session.scalars(
        select(TextMessage).where(TextMessage.message_sid == message_sid).with_for_update()
    ).one_or_none()
    if message is None:
        return False
    current = STATUS_RANK.get(message.twilio_status or "", -1)
    if STATUS_RANK.get(status, -1) <= current:
        return False
    message.twilio_status = status
    message.error_code = error_code or message.error_code
    if status in ("delivered", "undelivered", "failed"):
        message.state = status
    message.updated_at = now
    if error_code == UNSUBSCRIBED:
        set_opt_out(
            session, keyring, recipient(keyring, message), opted_out=True, source="carrier", now=now
        )
    return True


def log_inbound(
    session: Session,
    keyring: Keyring,
    *,
    message_sid: str,
    sender: str,
    body: str,
    keyword: str | None,
    now: datetime,
) -> bool:
    """Keep a caller's text (SSN-like numbers already redacted by the caller of this)."""
    return insert_ignoring_conflicts(
        session,
        InboundText,
        {
            "message_sid": message_sid,
            "from_sealed": keyring.seal(sender, FieldContext("inbound_texts", "from", message_sid)),
            "from_index": keyring.blind_index("phone", sender),
            "body_sealed": keyring.seal(body, FieldContext("inbound_texts", "body", message_sid)),
            "keyword": keyword,
            "received_at": now,
        },
        conflict_columns=["message_sid"],
    )


def inbound(session: Session, *, limit: int = 50) -> list[InboundText]:
    """Texts callers sent, newest first."""
    return list(session.scalars(select(InboundText).order_by(InboundText.id.desc()).limit(limit)))


def inbound_sender(keyring: Keyring, text: InboundText) -> str:
    return keyring.open(text.from_sealed, FieldContext("inbound_texts", "from", text.message_sid))


def inbound_body(keyring: Keyring, text: InboundText) -> str:
    return keyring.open(text.body_sealed, FieldContext("inbound_texts", "body", text.message_sid))


def _latest(session: Session, index: Any, blind_index: bytes, limit: int) -> list[Any]:
    """The last ``limit`` rows whose ``index`` column is ``blind_index``, oldest first."""
    model = index.class_
    return list(
        session.scalars(
            select(model).where(index == blind_index).order_by(model.id.desc()).limit(limit)
        )
    )[::-1]


def texts_to(
    session: Session, keyring: Keyring, number: str, *, limit: int = 200
) -> list[TextMessage]:
    """The texts queued to a number (by its blind index), oldest first."""
    return _latest(session, TextMessage.to_index, keyring.blind_index("phone", number), limit)


def texts_from(
    session: Session, keyring: Keyring, number: str, *, limit: int = 200
) -> list[InboundText]:
    """The texts a number sent (not keywords' effects, but the texts kept), oldest first."""
    return _latest(session, InboundText.from_index, keyring.blind_index("phone", number), limit)


def get_inbound(session: Session, inbound_id: int) -> InboundText | None:
    return session.get(InboundText, inbound_id)
