"""The IVR's rules: when the line is open, what a key press leads to, when a person helps.

``telephony`` turns Twilio's webhooks into these calls and the decisions into TwiML; the
rules themselves (business hours, the language switch, how many tries before the
operator) are the city's, so they live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.calls import service as calls
from services.directory import service as directory
from services.directory.hours import BusinessHours
from services.directory.service import MenuEntry


@dataclass(frozen=True)
class IvrPolicy:
    """How the line answers: its hours, how long a department rings, the longest message."""

    city: str
    hours: BusinessHours
    tz: ZoneInfo
    dial_timeout_seconds: int = 25
    voicemail_max_seconds: int = 120
    # After this many silences or wrong keys, a person helps rather than the menu.
    menu_attempts: int = 3

    def is_open(self, instant: datetime) -> bool:
        return self.hours.is_open(instant, self.tz)


@dataclass(frozen=True)
class MenuOutcome:
    """What the caller's key press leads to, decided in the webhook's transaction."""

    language: str
    connect: MenuEntry | None = None
    menu: tuple[MenuEntry, ...] = ()
    greet: bool = False
    attempt: int = 1


def choose(
    session: Session,
    policy: IvrPolicy,
    *,
    call_sid: str,
    digits: str,
    language: str,
    attempt: int,
    now: datetime,
) -> MenuOutcome:
    """Apply a key press: switch to Spanish, connect a department (the operator after
    ``menu_attempts`` misses), or read the menu again."""
    if digits == directory.SPANISH_DIGITS and language == "en":
        calls.set_language(session, call_sid=call_sid, language="es", now=now)
        return MenuOutcome("es", menu=tuple(directory.menu(session)), greet=True)
    entry = directory.find(session, digits) if digits.isdigit() else None
    if entry is None and attempt >= policy.menu_attempts:
        entry = directory.find(session, directory.OPERATOR_DIGITS)
    if entry is None:
        return MenuOutcome(language, menu=tuple(directory.menu(session)), attempt=attempt + 1)
    calls.choose_extension(
        session, call_sid=call_sid, extension=entry.digits, language=language, now=now
    )
    return MenuOutcome(language, connect=entry)
