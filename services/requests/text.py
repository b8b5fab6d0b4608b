"""Normal forms for searching contacts, and scrubbing personal data out of free text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

from services.platform import ssn

# Letters of any script on both sides: "josé.núñez@correo.es", "ana@müller.de".
EMAIL = re.compile(r"[\w.%+'\u2019-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
# Spelled out to dodge filters: "ana at example dot org", "ana [at] example [dot] org".
EMAIL_SPELLED = re.compile(
    r"[\w.%+-]+\s*[\[(]?\s*\bat\b\s*[\])]?\s*[\w-]+(?:\s*[\[(]?\s*\bdot\b\s*[\])]?\s*[\w-]+)+",
    re.IGNORECASE,
)
EMAIL_WHOLE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
NUMBER_REMOVED = "[number removed]"
EMAIL_REMOVED = "[email removed]"
NAME_REMOVED = "[name removed]"
HOUSE_NUMBER_REMOVED = "[house number removed]"
UNIT_REMOVED = "[unit removed]"
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


# -- the personal-data filter for public text ------------------------------------------
#
# Every detector reads the original text and reports spans; the spans are merged and
# each run is replaced once, so one marker never lands inside another ("[number [name
# removed]]") and a detector never matches the words of a marker.

_WORD = r"[^\W\d_](?:[\w'\u2019-]*[^\W\d_])?"
# In a lookahead: the words after one cue may hold the next cue ("... my name is").
_NAMES_AFTER = rf"[ \t]*[,:]?[ \t]+(?=(?P<names>{_WORD}(?:[ \t]+{_WORD}){{0,2}}))"
# After these, the next words are a name whatever their case.
_STRONG_CUE = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name's|name\s*:|me\s+llamo|mi\s+nombre\s+es|nombre\s*:"
    r"|se\s+llama|(?:his|her|their)\s+name\s+is)" + _NAMES_AFTER,
    re.IGNORECASE,
)
# After these, capitalised words are taken for a name.
_WEAK_CUE = re.compile(
    r"\b(?:i\s+am|i'm|i\u2019m|this\s+is|it's|it\u2019s|called|named|ask\s+for|asked\s+for"
    r"|(?:speak|spoke|speaking|talk|talked|met)\s+(?:to|with)|per|told|visited"
    r"|soy|neighbou?rs?|landlord|landlady|tenant|owner|roommate|vecin[oa]s?|dueñ[oa]"
    r"|thanks|thank\s+you|regards|gracias|sincerely|cheers|saludos|signed|atentamente"
    r"|reported\s+by|caller|contact|resident|husband|wife|son|daughter|mother|father"
    r"|brother|sister|friend|hijo|hija|esposo|esposa|madre|padre|hablé\s+con)" + _NAMES_AFTER,
    re.IGNORECASE,
)
_TITLE_WORDS = frozenset(
    re.split(r"\s+", "mr mrs ms miss mx dr sr sra srta don doña dona mister señor señora señorita")
)
_TITLE = re.compile(
    rf"\b(?:{'|'.join(sorted(_TITLE_WORDS, key=len, reverse=True))})\b\.?" + _NAMES_AFTER,
    re.IGNORECASE,
)
# Words that end a name rather than belong to it.
_NOT_NAMES = frozenset(
    re.split(
        r"\s+",
        """a an and are at by de del for from has he her here him his i in is it its la las
        los me my no not of on or our she so that the their them there they this to too was
        we were who with y you your el en es un una que por para con crew city team staff
        today yesterday tomorrow please""",
    )
)
_STREET_WORDS = (
    frozenset(_ADDRESS_WORDS)
    | frozenset(_ADDRESS_WORDS.values())
    | {
        "calle",
        "avenida",
        "camino",
        "park",
        "bridge",
    }
)
_STREET_SUFFIX = "|".join(
    sorted(
        (re.escape(word) for word in _STREET_WORDS if word not in ("no", "number", "unit")),
        key=len,
        reverse=True,
    )
)
# A house number: digits (and a letter) before a street name and its suffix.
_HOUSE_NUMBER = re.compile(
    rf"(?<![\w#-])\d{{1,6}}(?:-?[A-Za-z])?"
    rf"(?=[ \t]+(?:[\w'\u2019.-]+[ \t]+){{0,3}}(?:{_STREET_SUFFIX})\b)",
    re.IGNORECASE,
)
# A flat, suite, unit or floor with its number.
_UNIT = re.compile(
    r"(?:\b(?:apt|apartment|unit|suite|ste|flat|floor|fl|rm|room|piso|depto|departamento"
    r"|dept|bldg|building|no\.|n[ºo°])\.?[ \t]*#?[ \t]*|#[ \t]*)[\w-]*\d[\w-]*",
    re.IGNORECASE,
)


_MARKERS = re.compile(
    "|".join(
        re.escape(marker)
        for marker in (
            ssn.REDACTED,
            NUMBER_REMOVED,
            EMAIL_REMOVED,
            NAME_REMOVED,
            HOUSE_NUMBER_REMOVED,
            UNIT_REMOVED,
        )
    )
)


def _folded_index(text: str) -> tuple[str, list[int]]:
    """``text`` folded, and for each folded character the index it came from."""
    pieces, places = [], []
    for index, char in enumerate(text):
        folded = fold(char)
        pieces.append(folded)
        places += [index] * len(folded)
    return "".join(pieces), places


def _word_spans(text: str, words: Iterable[str], *, shortest: int = 2) -> list[tuple[int, int]]:
    """Where each of ``words`` stands as a whole word, ignoring case and accents."""
    folded, places = _folded_index(text)
    found = []
    for word in {fold(word) for word in words if len(word) >= shortest}:
        for match in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", folded):
            found.append((places[match.start()], places[match.end() - 1] + 1))
    return found


def name_spans(text: str) -> list[tuple[int, int]]:
    """Where names seem to stand: the words after "my name is", "me llamo" and the
    like; capitalised words after "this is", "spoke to", "neighbor", "thanks," or a
    title (Mr, Sra.). A detector, not a guarantee: the public feed does not rely on it
    alone (PUBLIC_TEXT=reviewed)."""
    found = []
    for pattern, strong in ((_STRONG_CUE, True), (_WEAK_CUE, False), (_TITLE, False)):
        for match in pattern.finditer(text):
            start = end = match.start("names")
            for word in re.finditer(_WORD, match.group("names")):
                value = word.group()
                lowered = fold(value)
                if lowered in _NOT_NAMES or lowered in _STREET_WORDS:
                    break
                if lowered in _TITLE_WORDS or (not strong and not value[0].isupper()):
                    break  # "neighbor Mrs. Lopez": the title's own match takes the name
                end = start + word.end()
            if end > start:
                found.append((start, end))
    return found


def address_spans(text: str) -> list[tuple[int, int, str]]:
    """House numbers before a street and flat or unit numbers, each with its marker."""
    found = [(m.start(), m.end(), HOUSE_NUMBER_REMOVED) for m in _HOUSE_NUMBER.finditer(text)]
    found += [(m.start(), m.end(), UNIT_REMOVED) for m in _UNIT.finditer(text)]
    return found


def address_words(address: str | None) -> list[str]:
    """The words of a home address that identify the home: its numbers."""
    return [word for word in re.split(r"[^\w]+", address or "") if any(c.isdigit() for c in word)]


def scrub(
    text: str,
    region: str,
    *,
    also: Iterable[str] = (),
    numbers_of: Iterable[str] = (),
    names: bool = False,
    addresses: bool = False,
) -> str:
    """``text`` without SSN-like numbers, phone numbers and email addresses (spelled out
    too), the words given in ``also`` (a contact's own name) and ``numbers_of`` (the
    numbers of their home address); with ``names``, names the detector finds; with
    ``addresses``, house and flat numbers. For anonymous requests and public feeds."""
    found: list[tuple[int, int, str]] = [
        (start, end, ssn.REDACTED) for start, end in ssn.spans(text)
    ]
    found += [(m.start(), m.end(), EMAIL_REMOVED) for m in EMAIL.finditer(text)]
    found += [(m.start(), m.end(), EMAIL_REMOVED) for m in EMAIL_SPELLED.finditer(text)]
    found += [
        (match.start, match.end, NUMBER_REMOVED)
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE
        )
    ]
    found += [(start, end, NAME_REMOVED) for start, end in _word_spans(text, also)]
    home = _word_spans(text, numbers_of, shortest=1)
    found += [(start, end, HOUSE_NUMBER_REMOVED) for start, end in home]
    if names:
        found += [(start, end, NAME_REMOVED) for start, end in name_spans(text)]
    if addresses:
        found += address_spans(text)
    # Markers already in the text (it was filtered when stored) are left as they are.
    kept = [match.span() for match in _MARKERS.finditer(text)]
    found = [
        span for span in found if not any(span[0] < end and start < span[1] for start, end in kept)
    ]
    return _replace(text, found)


def _replace(text: str, found: list[tuple[int, int, str]]) -> str:
    """Replace each run of overlapping spans once, by the marker of its first span."""
    pieces: list[str] = []
    last = 0
    for start, end, marker in sorted(found, key=lambda span: (span[0], -span[1])):
        if start < last:  # inside the run just replaced: widen it
            last = max(last, end)
            continue
        pieces += [text[last:start], marker]
        last = end
    return "".join([*pieces, text[last:]])


# -- a place without the numbers of a house or flat -----------------------------------
# The public-records export and the Open311 feed (for anonymous requests) give a place
# this way: the street, not the door.

# A unit designator and what follows it: "Apt 3", "Unit 5B", "#12", "Suite 200".
_ADDRESS_UNIT = re.compile(
    r"(?:#|\b(?:apt|apartment|unit|suite|ste|rm|room|bldg|building)\b\.?)\s*#?\s*[\w-]+",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$", re.IGNORECASE)
_NUMBERED_ROAD = re.compile(r"^[A-Za-z]{1,3}-\d+[A-Za-z]?$")  # I-95, US-1, SR-7
_ROAD_WORDS = frozenset(
    # Not "road": in "Oak Rd, 12" the number would be a house's.
    {"route", "rte", "rt", "highway", "hwy", "interstate", "i", "us", "sr", "cr"}
)
_FRACTIONS = frozenset("½¼¾⅓⅔")
_EDGE_PUNCTUATION = ",;:.-\u2013/ "  # and the en dash


def _is_house_number(word: str, previous: str | None) -> bool:
    core = word.strip(_EDGE_PUNCTUATION + "()")
    if not core or not (any(c.isdigit() for c in core) or any(c in _FRACTIONS for c in core)):
        return False
    if _ORDINAL.match(core) or _NUMBERED_ROAD.match(core):
        return False
    # "Route 9", "County Road 12": a road's number, not a house's.
    return (previous or "").strip(_EDGE_PUNCTUATION).casefold() not in _ROAD_WORDS


def without_street_numbers(address: str | None) -> str | None:
    """The location with house numbers (``1234``, ``12-14``, ``12A``, ``12 1/2``), unit
    numbers and email addresses removed; ordinal streets ("5th Ave") and road numbers
    ("Route 9", "I-95") kept. None when nothing is left."""
    if not address:
        return None
    text = _ADDRESS_UNIT.sub(" ", EMAIL.sub(" ", address))
    kept: list[str] = []
    previous: str | None = None
    for word in text.split():
        if not _is_house_number(word, previous):
            kept.append(word)
        elif word.rstrip()[-1:] in ",;" and kept:
            kept[-1] = kept[-1].rstrip(",;") + word.rstrip()[-1]
        previous = word
    cleaned = " ".join(kept)
    cleaned = re.sub(r"\s+([,;])", r"\1", cleaned)
    cleaned = re.sub(r"([,;])(?:\s*[,;])+", r"\1", cleaned)
    cleaned = cleaned.strip(_EDGE_PUNCTUATION)
    return cleaned or None
