"""Text bound for XML (Open311 feeds, TwiML): XML 1.0 cannot carry some characters at
all, and one of them in a description or a menu name makes the whole document
unreadable to its client (``PCDATA invalid Char value 7``), so writers pass text here."""

from __future__ import annotations

import re

# C0 controls but tab, newline and carriage return; lone surrogates; U+FFFE and U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML cannot carry."""
    return NOT_XML.sub("", value)
