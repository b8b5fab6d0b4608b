"""Normal forms for searching contacts, and scrubbing personal data out of free text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

from services.platform import ssn

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
EMAIL_WHOLE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
NUMBER_REMOVED = "[number removed]"
EMAIL_REMOVED = "[email removed]"
NAME_REMOVED = "[name removed]"
MAX_NAME_TOKENS = 8

# Street suffixes, directions and unit words as the USPS abbreviates them.
_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "highway": "hwy",
    "parkway": "pkwy",
    "circle": "cir",
    "square": "sq",
    "way": "way",
    "alley": "aly",
    "plaza": "plz",
    "trail": "trl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "apartment": "unit",
    "apt": "unit",
    "suite": "unit",
    "ste": "unit",
    "unit": "unit",
    "number": "unit",
    "no": "unit",
    "floor": "fl",
}


def fold(text: str) -> str:
    """Case- and accent-folded: "José ÁLVAREZ" becomes "jose alvarez"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_tokens(name: str) -> list[str]:
    """The words of a name, folded, each once, in order."""
    tokens: list[str] = []
    for token in re.split(r"[\W_]+", fold(name)):
        if token and token not in tokens:
            tokens.append(token)
    return tokens[:MAX_NAME_TOKENS]


def normalise_email(text: str) -> str:
    """Trimmed and case-folded; ValueError when it is not an email address."""
    email = text.strip().casefold()
    if len(email) > 254 or not EMAIL_WHOLE.match(email):
        raise ValueError("is not an email address")
    return email


def canonical_address(text: str) -> str:
    """A street address in one spelling: folded, without punctuation, with street
    suffixes, directions and unit words abbreviated ("12 North Oak Street, Apt. 3"
    and "12 n oak st #3" are the same)."""
    folded = fold(text).replace("#", " unit ")
    words = re.split(r"[^\w]+", folded)
    return " ".join(_ADDRESS_WORDS.get(word, word) for word in words if word)


def scrub(text: str, region: str, *, also: Iterable[str] = ()) -> str:
    """``text`` without SSN-like numbers, phone numbers, email addresses, and the words
    given in ``also`` (a contact's own name), for anonymous requests and public feeds."""
    text = ssn.redact(text)
    text = EMAIL.sub(EMAIL_REMOVED, text)
    matches = list(
        phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    )
    for match in reversed(matches):
        text = text[: match.start] + NUMBER_REMOVED + text[match.end :]
    for word in {fold(word) for word in also if len(word) > 1}:
        text = _replace_folded(text, word, NAME_REMOVED)
    return text


def _replace_folded(text: str, word: str, marker: str) -> str:
    folded = fold(text)
    if len(folded) != len(text):  # folding changed lengths; fall back to plain matching
        return re.sub(rf"\b{re.escape(word)}\b", marker, text, flags=re.IGNORECASE)
    pieces, last = [], 0
    for match in re.finditer(rf"\b{re.escape(word)}\b", folded):
        pieces += [text[last : match.start()], marker]
        last = match.end()
    return "".join([*pieces, text[last:]])
