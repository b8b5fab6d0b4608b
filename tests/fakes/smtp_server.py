"""A real SMTP server for the tests (aiosmtpd), told how to behave: accept, refuse a
recipient for good or for now, drop the connection during DATA, or answer slowly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import free_port


@dataclass
class MailSink:
    """What the server received, and how it answers next."""

    received: list[EmailMessage] = field(default_factory=list)
    mode: str = "accept"  # accept, refuse, later, drop, slow
    delay: float = 0.0
    refuse: set[str] = field(default_factory=set)  # recipients refused for good

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.mode == "refuse" or address in self.refuse:
            # As Postfix words it: the refused address is named in the reply.
            return f"550 5.1.1 <{address}>: Recipient address rejected: No such mailbox"
        if self.mode == "later":
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "drop":
            # Take the message, then hang up before saying so: the sender cannot know.
            self._keep(envelope)
            server.transport.close()
            return "250 OK"
        self._keep(envelope)
        return "250 OK"

    def _keep(self, envelope: Any) -> None:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[MailSink, str]]:
    """A running server and its ``smtp://`` URL."""
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield sink, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
