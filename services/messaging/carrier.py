"""What sending a text needs from a carrier, and the console stand-in that needs none."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

log = logging.getLogger("switchboard.sms")


@dataclass(frozen=True)
class Sent:
    message_sid: str
    status: str


class SendRefused(Exception):
    """The carrier refused this text for good (an invalid or landline number, an
    unsubscribed recipient). ``code`` is the carrier's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SendFailed(Exception):
    """The carrier did not take the text this time (rate limited, 5xx): try again later.
    ``ambiguous`` means it may have been taken after all (the connection dropped)."""

    def __init__(
        self, message: str, *, ambiguous: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.retry_after = retry_after


class SmsGateway(Protocol):
    name: str

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        """Hand a text to the carrier; raises SendRefused or SendFailed."""
        ...

    def find_sent(self, *, to: str, body: str, since: datetime) -> Sent | None:
        """A text with this body already sent to ``to`` since then, if any: so a retry
        after an ambiguous failure never sends the same text twice."""
        ...

    def line_type(self, number: str) -> str | None:
        """The number's line type from the carrier's lookup ("mobile", "landline", …),
        or None when lookups are off."""
        ...

    def received_at(self, message_sid: str) -> datetime | None:
        """When the carrier received a text sent to the city (its own record, whatever
        the webhook's delivery order), or None when it cannot say."""
        ...


class ConsoleGateway:
    """The embedded default without Twilio: texts stay in the outbox staff can read."""

    name = "console"

    def send(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        digest = hashlib.sha256(f"{to}\x1f{body}".encode()).hexdigest()[:32]
        log.info("text kept in the console outbox")
        return Sent(message_sid="SMconsole" + digest[:23], status="sent")

    def find_sent(self, *, to: str, body: str, since: datetime) -> Sent | None:
        return None  # the outbox row itself is the record; nothing leaves the building

    def line_type(self, number: str) -> str | None:
        return None

    def received_at(self, message_sid: str) -> datetime | None:
        return None  # no carrier: the webhook's own arrival orders keywords
