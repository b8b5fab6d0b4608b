"""Phone numbers: caller IDs as Twilio reports them, and numbers staff type in.

Everything is normalised to E.164 with ``phonenumbers``. Messages never repeat the
number itself, since exceptions and logs must not carry personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

# Words carriers put in place of a withheld caller ID.
WITHHELD_WORDS = frozenset(
    {"anonymous", "restricted", "unknown", "private", "unavailable", "blocked", "withheld"}
)
# Twilio's keypad spellings of ANONYMOUS, RESTRICTED, UNAVAILABLE, BLOCKED and UNKNOWN.
TWILIO_WITHHELD_DIGITS = frozenset(
    {"266696687", "7378742833", "17378742833", "86282452253", "2562533", "8656696"}
)
_NON_DIGITS = re.compile(r"\D")
MAX_PHONE_TEXT = 64


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number; the message says why without quoting it."""


@dataclass(frozen=True)
class CallerId:
    """What a call's From (or To) means.

    Exactly one holds: a number (``e164``), a withheld caller ID (``withheld``), or text
    that is not a number (``unparsed``, e.g. a SIP address), kept as it came.
    """

    e164: str | None = None
    withheld: bool = False
    unparsed: str | None = None


def is_withheld(raw: str | None) -> bool:
    text = (raw or "").strip()
    if not text or text.lower() in WITHHELD_WORDS:
        return True
    return _NON_DIGITS.sub("", text) in TWILIO_WITHHELD_DIGITS and text.lstrip().startswith("+")


def read_caller_id(raw: str | None, region: str) -> CallerId:
    """Interpret a caller ID from a webhook. Never raises."""
    if is_withheld(raw):
        return CallerId(withheld=True)
    text = (raw or "").strip()[:MAX_PHONE_TEXT]
    try:
        return CallerId(e164=normalise(text, region))
    except InvalidPhoneNumber:
        return CallerId(unparsed=text)


def normalise(text: str, region: str) -> str:
    """E.164 form of a number typed in any common format (``DEFAULT_REGION`` for national).

    Raises InvalidPhoneNumber when the text cannot be a phone number.
    """
    if len(text) > MAX_PHONE_TEXT:
        raise InvalidPhoneNumber("is too long to be a phone number")
    # SIP addresses and Twilio Client identities ("sip:…", "client:…") are not numbers.
    if not re.search(r"\d", text) or "@" in text or ":" in text:
        raise InvalidPhoneNumber("is not a phone number")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber("is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("does not have the right number of digits for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def for_people(number: str | None, region: str) -> str | None:
    """A number as people write it: national format at home, international abroad."""
    if number is None:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    home = phonenumbers.region_code_for_number(parsed) == region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)
