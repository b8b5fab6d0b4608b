"""Social Security numbers are never gathered: find, refuse or redact SSN-like numbers.

"SSN-like" follows the SSA's issuance rules: three-digit area 001-899 but not 666,
two-digit group 01-99, four-digit serial 0001-9999, written with dashes, spaces or dots
between the parts (the same one both times) or none at all, and not part of a longer
run of digits. Staff input that holds one is refused with a message naming the field;
text from the public (Open311, SMS, voicemail notes) is redacted before it is stored.
Neither path ever logs or echoes the number.
"""

from __future__ import annotations

import re

from services.platform.errors import InvalidField

REDACTED = "[SSN removed]"
_CANDIDATE = re.compile(r"(?<![\d-])(\d{3})([-. ]?)(\d{2})\2(\d{4})(?![\d-])")


def _issuable(area: str, group: str, serial: str) -> bool:
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
    )


def spans(text: str) -> list[tuple[int, int]]:
    """Where SSN-like numbers stand in ``text``."""
    return [
        match.span()
        for match in _CANDIDATE.finditer(text)
        if _issuable(match.group(1), match.group(3), match.group(4))
    ]


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
        raise InvalidField(
            field, "looks like a Social Security number; the city does not record them"
        )
