"""What sending an email needs from a mail server, over SMTP with the standard library.

``smtplib`` runs in the job worker's threads (the worker is threaded, so a blocking
client costs nothing extra and needs no new dependency). ``smtp://`` upgrades with
STARTTLS when the server offers it, and refuses a server that does not when TLS is
required; ``smtps://`` is TLS from the first byte. A message is handed over with its
own ``Message-ID``, so a receiver can tell a retry after a dropped connection from a
second message.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from typing import Protocol
from urllib.parse import unquote, urlsplit

from services.platform.clock import Clock, SystemClock


class MailRefused(Exception):
    """The server refused this message for good (5xx): the address does not exist, or
    the server will not take it. ``code`` is the SMTP reply code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class MailFailed(Exception):
    """The server did not take the message this time (4xx, refused connection, timeout):
    try again later. ``ambiguous``: the connection dropped after the message was sent,
    so it may have been taken."""

    def __init__(self, message: str, *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class Connection(Protocol):
    def send(self, message: Message) -> None:
        """Hand one message over; MailRefused or MailFailed."""
        ...


class EmailGateway(Protocol):
    @property
    def name(self) -> str: ...

    def connect(self) -> AbstractContextManager[Connection]:
        """A connection to send one or many messages over; MailFailed when the server
        cannot be reached or will not talk TLS when required."""
        ...


@dataclass(frozen=True)
class KeptEmail:
    """A message the console gateway took instead of sending it: whom it was for, its
    subject and its plain text, decoded, and when it was handed over."""

    to: str
    subject: str
    text: str
    handed_at: datetime


def _header_text(value: str | None) -> str:
    """A header as people read it (RFC 2047 words decoded)."""
    return str(make_header(decode_header(value))) if value else ""


def _plain_text(message: Message) -> str:
    """The message's text/plain part, decoded; empty when it has none."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _kept_email(message: Message, handed_at: datetime) -> KeptEmail:
    return KeptEmail(
        to=_header_text(message["To"]),
        subject=_header_text(message["Subject"]),
        text=_plain_text(message),
        handed_at=handed_at,
    )


# How many messages the console gateway keeps: enough for a trial, bounded in memory.
KEPT_LIMIT = 200


@dataclass
class ConsoleEmail:
    """The embedded default: nothing leaves the building. Update emails stay in the
    outbox table staff can read; every message handed over (updates, alerts, and sign-up
    confirmations, whose address is stored nowhere before it is confirmed) is kept, the
    last ``KEPT_LIMIT`` of them, in this process's memory for staff to read
    (``kept()``). A worker in another process keeps its own, which this one never sees."""

    clock: Clock = field(default_factory=SystemClock)
    name: str = "console"
    _kept: deque[KeptEmail] = field(default_factory=lambda: deque(maxlen=KEPT_LIMIT))
    # Worker threads hand messages over while a web thread reads them.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def keep(self, message: Message) -> None:
        kept = _kept_email(message, self.clock.now())
        with self._lock:
            self._kept.append(kept)

    def kept(self) -> list[KeptEmail]:
        """The messages kept, newest first."""
        with self._lock:
            return list(reversed(self._kept))

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield _Kept(self)


class _Kept:
    def __init__(self, gateway: ConsoleEmail) -> None:
        self.gateway = gateway

    def send(self, message: Message) -> None:
        self.gateway.keep(message)


@dataclass(frozen=True)
class SmtpServer:
    """Where ``SMTP_URL`` points."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL looks like smtp://user:pass@host:587 or smtps://host:465")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class _SmtpConnection:
    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client

    def send(self, message: Message) -> None:
        try:
            refused = self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _refusal(code, reply) from None
        except smtplib.SMTPSenderRefused as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPDataError as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPServerDisconnected:
            # Dropped during or after DATA: the server may have taken it.
            raise MailFailed("the server dropped the connection", ambiguous=True) from None
        except (TimeoutError, OSError) as exc:
            raise MailFailed(
                f"the server did not answer ({type(exc).__name__})", ambiguous=True
            ) from None
        if refused:
            code, reply = next(iter(refused.values()))
            raise _refusal(code, reply)


_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


def _refusal(code: int, reply: bytes | str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    # Servers name the refused address in their reply ("<ana@example.org>: rejected"); the
    # summary is kept in clear text and may be logged, so the address is left out.
    summary = f"{code} {_ADDRESS.sub('[address]', text)}"[:120]
    if 500 <= code < 600:
        return MailRefused(code, summary)
    return MailFailed(summary)


@dataclass(frozen=True)
class SmtpGateway:
    server: SmtpServer
    require_tls: bool
    timeout: float
    context: ssl.SSLContext | None = None
    name: str = "smtp"

    def _tls(self) -> ssl.SSLContext:
        return self.context or ssl.create_default_context()

    def _open(self) -> smtplib.SMTP:
        try:
            if self.server.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.server.host, self.server.port, timeout=self.timeout, context=self._tls()
                )
            else:
                client = smtplib.SMTP(self.server.host, self.server.port, timeout=self.timeout)
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=self._tls())
                    client.ehlo()
                elif self.require_tls:
                    client.close()
                    raise MailFailed("the server does not offer STARTTLS and TLS is required")
            if self.server.username:
                client.login(self.server.username, self.server.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailFailed(f"the server refused the credentials ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailFailed(f"cannot reach the mail server ({type(exc).__name__})") from None
        return client

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        client = self._open()
        try:
            yield _SmtpConnection(client)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
