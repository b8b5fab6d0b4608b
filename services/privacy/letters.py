"""Letters to the person who asked, and the readable export: server-rendered HTML,
escaped by Jinja2, printable to PDF from any browser."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, datetime
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from services.privacy.holdings import Holdings
from services.privacy.service import Requester

LETTERS = ("acknowledgement", "grant", "denial", "amendment")

_env = Environment(
    loader=PackageLoader("services.privacy", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _long(day: date | datetime | None) -> str:
    """A date as people write it: 2 December 2026."""
    return "" if day is None else f"{day.day} {day:%B} {day.year}"


def _clock(instant: datetime) -> str:
    """A time of day as people write it: 9:05 am, 12:30 pm."""
    hour = instant.hour % 12 or 12
    return f"{hour}:{instant.minute:02d} {'am' if instant.hour < 12 else 'pm'}"


# What the records' codes mean, in words (statuses of calls, requests, appointments and
# texts, how a contact came in, how it ended); anything else has its dashes and
# underscores read as spaces.
WORDS = {
    "completed": "ended",
    "in-progress": "in progress",
    "no-answer": "not answered",
    "busy": "line busy",
    "canceled": "ended before it was answered",
    "failed": "could not be connected",
    "ringing": "ringing",
    "queued": "waiting to be sent",
    "sending": "being sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "not delivered",
    "open": "open",
    "in_progress": "being worked on",
    "closed": "closed",
    "booked": "booked",
    "cancelled": "cancelled",
    "phone": "by phone",
    "sms": "by text message",
    "web": "online",
    "open311": "online",
    "email": "by email",
    "walk_in": "in person",
    "in_person": "in person",
    "mail": "by post",
    "information_provided": "information given",
    "request_filed": "request filed",
    "transferred": "transferred",
    "referred": "referred elsewhere",
    "caller_hung_up": "caller hung up",
    "wrong_number": "wrong number",
}
CODED = frozenset({"status", "state", "channel", "resolution"})
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def in_words(code: str) -> str:
    """A record's status or similar code in words, with a capital: "no-answer" → "Not
    answered"."""
    text = WORDS.get(code, code.replace("_", " ").replace("-", " "))
    return text[:1].upper() + text[1:]


def _duration(seconds: float) -> str:
    """A length as people say it: 3 minutes 12 seconds."""
    total = round(seconds)
    minutes, rest = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if rest or not minutes:
        parts.append(f"{rest} second{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _written(value: str) -> str:
    """An ISO instant or date, as text, as people write it; other text as it is."""
    try:
        if _INSTANT.match(value):
            instant = datetime.fromisoformat(value)
            return f"{_long(instant)} at {_clock(instant)}"
        if _DAY.match(value):
            return _long(date.fromisoformat(value))
    except ValueError:
        pass
    return value


def plain(value: Any, key: str | None = None) -> str:
    """One value of a record as a person reads it: instants as "2 December 2026 at
    9:05 am", dates as "2 December 2026", lengths in minutes and seconds, codes in words."""
    if isinstance(value, datetime):
        text = f"{_long(value)} at {_clock(value)}"
    elif isinstance(value, date):
        text = _long(value)
    elif key is not None and key.endswith("seconds") and isinstance(value, int | float):
        text = _duration(value)
    elif key in CODED and isinstance(value, str):
        text = in_words(value)
    elif isinstance(value, str):
        text = _written(value)
    else:
        text = str(value)
    return text


# Constant markup of our own, not input.
_LINE_BREAK = Markup("<br>")
_SEPARATOR = Markup(" — ")


def _readable(value: Any, key: str | None = None, *, inline: bool = False) -> Markup:
    """A value of an export as a reader sees it: a record's parts on lines of their own
    (on one line, within a list), a list one item a line, missing values and flags left
    out, dates, lengths and codes in words. Escaped like any other text."""
    if value is None or isinstance(value, bool):
        return Markup("")
    if isinstance(value, dict):
        parts = [
            _readable(part, name)
            for name, part in value.items()
            if not isinstance(part, dict | list)
        ]
        separator = _SEPARATOR if inline else _LINE_BREAK
        return separator.join(part for part in parts if part)
    if isinstance(value, list):
        return _LINE_BREAK.join(_readable(item, key, inline=True) for item in value)
    return Markup.escape(plain(value, key))


def _count(number: int, one: str, many: str | None = None) -> str:
    """ "1 call", "2 calls", "no calls"."""
    if number == 0:
        return f"no {many or one + 's'}"
    return f"{number} {one if number == 1 else (many or one + 's')}"


_env.filters["long_date"] = _long
_env.filters["readable"] = _readable
_env.filters["count"] = _count
_env.filters["in_words"] = in_words
_CSS = files("services.privacy").joinpath("templates/letter.css").read_text(encoding="utf-8")
_env.globals["css"] = Markup(_CSS)  # noqa: S704 - the package's own file, not input
# The letters carry their own small style sheet; this policy admits exactly it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
    + "'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def render_letter(
    kind: str,
    *,
    city: str,
    request: Any,
    requester: Requester,
    today: date,
    holdings: Holdings | None = None,
) -> str:
    if kind not in LETTERS:
        raise ValueError(kind)
    return _env.get_template(f"{kind}.html").render(
        city=city, request=request, requester=requester, today=today, holdings=holdings
    )


def render_export(
    *, city: str, request: Any, requester: Requester, today: date, holdings: Holdings
) -> str:
    return _env.get_template("export.html").render(
        city=city, request=request, requester=requester, today=today, holdings=holdings
    )
