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
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Protocol
from urllib.parse import unquote, urlsplit


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


class _Kept:
    def __init__(self, outbox: deque[Message]) -> None:
        self.outbox = outbox

    def send(self, message: Message) -> None:
        self.outbox.append(message)


@dataclass
class ConsoleEmail:
    """The embedded default: nothing leaves the building. Updates stay in the outbox
    table staff can read; the last messages handed over (sign-up confirmations, whose
    address is stored nowhere before it is confirmed) are kept in this process's memory
    for the console to show."""

    name: str = "console"
    kept: deque[Message] = field(default_factory=lambda: deque(maxlen=200))

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield _Kept(self.kept)


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
