"""Social Security numbers are never gathered: the one detector of SSN-like numbers.

"SSN-like" follows the SSA's issuance rules: three-digit area 001-899 but not 666,
two-digit group 01-99, four-digit serial 0001-9999. The parts are written together
("123456789") or apart, with any mix of dashes (hyphen, en and em dash, minus), dots,
slashes, underscores and whitespace (space, no-break space, tab) between them, one to
three characters each; digits of any script count. A number glued to letters or
punctuation ("SSN-123-45-6789", "123.45.6789-") is found, and so is one beside other
numbers with a space between ("302-555-0133 123-45-6789"); one that is part of a longer
run of digits ("19801-1234", "2025550142", "2024-123-45-6789") is not, and neither is
a five-then-four group like a ZIP+4 code.

Every place that stores free text relies on this one module: staff input that holds
an SSN-like number is refused with a message naming the field (``refuse``), text from
the public (Open311, SMS, voicemail notes) is redacted before it is stored (``redact``),
and the storage guard (``services/platform/text_guard.py``) refuses any that reached a
typed column without either. Nothing here ever logs or echoes the number.
"""

from __future__ import annotations

import re
import unicodedata

from services.platform.errors import InvalidField

REDACTED = "[SSN removed]"
MESSAGE = "looks like a Social Security number; the city does not record them"

# Separators people and keyboards put between the parts.
_SEPARATOR = r"[\s\-\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d._/\\\u00b7\u2219\u30fb,:]"
# What joins the parts of a longer number ("2024-123-45-6789"); not whitespace, which
# only sits between numbers ("302-555-0133 123-45-6789" holds an SSN).
_JOINER = r"[\-\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d._/\\\u00b7\u2219\u30fb]"
_CANDIDATE = re.compile(
    rf"(?<!\d)(?<!\d{_JOINER})"
    rf"(\d{{3}})({_SEPARATOR}{{0,3}})(\d{{2}})({_SEPARATOR}{{0,3}})(\d{{4}})"
    rf"(?!\d)(?!{_JOINER}\d)"
)


def _digits(text: str) -> str:
    return "".join(str(unicodedata.digit(char)) for char in text)


def _issuable(area: str, group: str, serial: str) -> bool:
    area, group, serial = _digits(area), _digits(group), _digits(serial)
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
    )


def spans(text: str) -> list[tuple[int, int]]:
    """Where SSN-like numbers stand in ``text``."""
    found = []
    for match in _CANDIDATE.finditer(text):
        area, first, group, second, serial = match.groups()
        # Both parts apart or both together: "19801-1234" (a ZIP+4) is neither.
        if bool(first) != bool(second):
            continue
        if _issuable(area, group, serial):
            found.append(match.span())
    return found


def contains_ssn(text: str | None) -> bool:
    return bool(text) and bool(spans(text or ""))


def redact(text: str) -> str:
    """``text`` with every SSN-like number replaced by a marker."""
    for start, end in reversed(spans(text)):
        text = text[:start] + REDACTED + text[end:]
    return text


def refuse(field: str, text: str | None) -> None:
    """Raise InvalidField (422) when a staff-entered ``text`` holds an SSN-like number."""
    if contains_ssn(text):
        raise InvalidField(field, MESSAGE)
