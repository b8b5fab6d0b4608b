"""Building an email with the standard library: real headers, a text and an HTML part.

Every message carries ``Message-ID`` and ``Date``; a message to a list (updates on a
request, news alerts) carries ``List-Unsubscribe`` with an https URL under
``PUBLIC_URL`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058),
and the same link in its footer. The only links in a message are that one and, in a
sign-up's confirmation, the confirmation link: the city never sends a link to a page
that asks for personal or financial information.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid, parseaddr

from services.email.gateway import EmailGateway

LINK = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Mailer:
    """How mail leaves: the gateway, the sender, the public base URL of links, the rate."""

    gateway: EmailGateway
    sender: str
    public_url: str
    rate_per_second: int
    max_attempts: int

    @property
    def domain(self) -> str:
        address = parseaddr(self.sender)[1]
        return address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class Letter:
    """What a message says: its subject, paragraphs of text, and the links it may carry."""

    subject: str
    paragraphs: tuple[str, ...]
    unsubscribe_url: str | None = None
    footer: str = ""
    action_url: str | None = None  # a sign-up's confirmation link
    action_label: str = ""
    pixel_url: str | None = None  # an open-count image, only when tracking is on


def message_id(mailer: Mailer, key: str) -> str:
    """A stable Message-ID for what ``key`` names (a retry keeps it)."""
    safe = re.sub(r"[^A-Za-z0-9.-]", ".", key)[:80]
    return f"<{safe}@{mailer.domain}>"


def links_in(text: str) -> list[str]:
    return LINK.findall(text)


def _header(value: str) -> str:
    """A header value: as is when ASCII, else encoded (RFC 2047) as UTF-8."""
    if "\r" in value or "\n" in value:
        raise ValueError("a header may not contain a line break")
    return value if value.isascii() else Header(value, "utf-8").encode()


def build(mailer: Mailer, to: str, letter: Letter, *, key: str, at: datetime) -> Message:
    """The message for ``to``; ValueError for a text that smuggles in a link of its own or
    a line break into a header.

    Built with the email package's MIME classes (the compat32 policy): with thousands of
    alert messages to build, the modern policy's header parsing costs three times more,
    and every value here is already checked or our own."""
    for paragraph in (letter.subject, *letter.paragraphs, letter.footer):
        if links_in(paragraph):
            raise ValueError("a message's text may not carry links")
    text = list(letter.paragraphs)
    if letter.action_url:
        text.append(f"{letter.action_label}: {letter.action_url}")
    if letter.footer or letter.unsubscribe_url:
        text.append("--")
        if letter.footer:
            text.append(letter.footer)
        if letter.unsubscribe_url:
            text.append(f"Unsubscribe / Cancelar la suscripción: {letter.unsubscribe_url}")
    message = MIMEMultipart("alternative")
    message["From"] = _header(mailer.sender)
    message["To"] = _header(to)
    message["Subject"] = _header(letter.subject)
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(mailer, key) if key else make_msgid(domain=mailer.domain)
    message["Auto-Submitted"] = "auto-generated"
    if letter.unsubscribe_url:
        message["List-Unsubscribe"] = _header(f"<{letter.unsubscribe_url}>")
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.attach(MIMEText("\n\n".join(text) + "\n", "plain", "utf-8"))
    message.attach(MIMEText(_html(letter), "html", "utf-8"))
    return message


def _html(letter: Letter) -> str:
    parts = [f"<p>{html.escape(paragraph)}</p>" for paragraph in letter.paragraphs]
    if letter.action_url:
        url, label = html.escape(letter.action_url), html.escape(letter.action_label)
        parts.append(f'<p><a href="{url}">{label}</a></p>')
    footer = []
    if letter.footer:
        footer.append(html.escape(letter.footer))
    if letter.unsubscribe_url:
        url = html.escape(letter.unsubscribe_url)
        footer.append(f'<a href="{url}">Unsubscribe / Cancelar la suscripción</a>')
    if footer:
        parts.append("<hr><p><small>" + "<br>".join(footer) + "</small></p>")
    if letter.pixel_url:
        parts.append(f'<img src="{html.escape(letter.pixel_url)}" width="1" height="1" alt="">')
    return (
        '<!doctype html><html><body style="font-family: sans-serif">'
        + "\n".join(parts)
        + "</body></html>\n"
    )
