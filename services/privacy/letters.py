"""Letters to the person who asked, and the readable export: server-rendered HTML,
escaped by Jinja2, printable to PDF from any browser."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
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


def _long(day: date | None) -> str:
    return "" if day is None else f"{day:%B} {day.day}, {day.year}"


# Constant markup of our own, not input.
_LINE_BREAK = Markup("<br>")
_SEPARATOR = Markup(" — ")


def _readable(value: Any, *, inline: bool = False) -> Markup:
    """A value of an export as a reader sees it: a record's parts on lines of their own
    (on one line, within a list), a list one item a line, missing values and flags left
    out. Escaped like any other text."""
    if value is None or isinstance(value, bool):
        return Markup("")
    if isinstance(value, dict):
        parts = [_readable(part) for part in value.values() if not isinstance(part, dict | list)]
        separator = _SEPARATOR if inline else _LINE_BREAK
        return separator.join(part for part in parts if part)
    if isinstance(value, list):
        return _LINE_BREAK.join(_readable(item, inline=True) for item in value)
    return Markup.escape(str(value))


_env.filters["long_date"] = _long
_env.filters["readable"] = _readable
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
