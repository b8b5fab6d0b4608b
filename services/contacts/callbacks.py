"""What calling a caller back needs from the phone company, and the city's rules for it.

The agent is rung first at their own destination; when they answer, the caller is
dialled with the city's 311 number as caller ID and the two are bridged. The caller's
number comes from the sealed record (a request's contact, an SMS conversation, the call
a contact was on), never from what someone types, and never travels in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

# An agent places one callback at a time: another while the first still rings or is on
# the line would ring them, then the caller, twice. A callback whose end has not been
# heard of after this long (its status callback lost) no longer stops the next one.
CALLBACK_RINGING_AT_MOST = timedelta(minutes=10)


@dataclass(frozen=True)
class PlacedCall:
    call_sid: str
    status: str


class CallbackFailed(Exception):
    """The phone company did not place the call; the message names no number."""


class CallbackDialer(Protocol):
    def place(
        self, *, agent_destination: str, caller: str, caller_id: str, status_callback: str
    ) -> PlacedCall:
        """Ring ``agent_destination`` and then bridge ``caller``, showing ``caller_id``;
        both legs report their progress to ``status_callback``. Raises CallbackFailed."""
        ...


@dataclass(frozen=True)
class CallbackPolicy:
    """How callbacks are placed: the dialer (None without Twilio credentials), the
    number callers see, and where the legs' progress is sent."""

    dialer: CallbackDialer | None
    caller_id: str | None
    status_callback: str
