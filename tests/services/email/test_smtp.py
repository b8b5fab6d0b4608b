"""Email through a real SMTP server: real headers, both parts, and what happens when the
server refuses, says "later", drops the connection, is slow, or offers no TLS."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.email import jobs as email_jobs
from services.email import service as mail
from services.email.compose import Letter, Mailer, build
from services.email.gateway import MailFailed, SmtpGateway, SmtpServer
from services.email.models import EmailSuppression, OutgoingEmail
from services.platform.context import AppContext
from tests.deploy_support import self_signed
from tests.fakes.smtp_server import MailSink, smtp_server
from tests.support import PUBLIC_URL

AT = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def mailer(url: str, **options: object) -> Mailer:
    gateway = SmtpGateway(
        SmtpServer.parse(url),
        require_tls=bool(options.get("require_tls", False)),
        timeout=float(options.get("timeout", 5.0)),  # type: ignore[arg-type]
    )
    return Mailer(
        gateway=gateway,
        sender="Wilmington 311 <311@city.example.gov>",
        public_url=PUBLIC_URL,
        rate_per_second=1000,
        max_attempts=3,
    )


def letter() -> Letter:
    return Letter(
        subject="Request SR-AAAAA-BBBBB: closed",
        paragraphs=("Request SR-AAAAA-BBBBB is now closed.",),
        unsubscribe_url=f"{PUBLIC_URL}/public/updates/unsubscribe/1.abc",
    )


def test_a_message_has_real_headers_and_both_parts(smtp: tuple[MailSink, str]) -> None:
    sink, url = smtp
    sending = mailer(url)
    with sending.gateway.connect() as connection:
        connection.send(build(sending, "ana@example.org", letter(), key="update:1:1", at=AT))
    [received] = sink.received
    assert received["Message-ID"] == "<update.1.1@city.example.gov>"
    assert received["Date"] == "Wed, 18 Nov 2026 15:00:00 +0000"
    assert received["List-Unsubscribe"] == f"<{PUBLIC_URL}/public/updates/unsubscribe/1.abc>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_body(("plain",)) is not None and received.get_body(("html",)) is not None
    text = received.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "SR-AAAAA-BBBBB" in text and "/public/updates/unsubscribe/1.abc" in text


def test_a_text_with_a_link_of_its_own_is_refused() -> None:
    with pytest.raises(ValueError, match="links"):
        build(
            mailer("smtp://127.0.0.1:1"),
            "ana@example.org",
            Letter(subject="Hello", paragraphs=("Pay at https://evil.example/pay",)),
            key="x",
            at=AT,
        )


def test_a_server_without_starttls_is_refused_when_tls_is_required(
    smtp: tuple[MailSink, str],
) -> None:
    sink, url = smtp
    with (
        pytest.raises(MailFailed, match="STARTTLS"),
        mailer(url, require_tls=True).gateway.connect(),
    ):
        pass
    assert sink.received == []


def test_a_slow_server_is_given_up_on_and_the_send_is_ambiguous(
    smtp: tuple[MailSink, str],
) -> None:
    sink, url = smtp
    sink.mode, sink.delay = "slow", 2.0
    sending = mailer(url, timeout=0.5)
    with pytest.raises(MailFailed) as failed, sending.gateway.connect() as connection:
        connection.send(build(sending, "ana@example.org", letter(), key="k", at=AT))
    assert failed.value.ambiguous


def test_no_server_listening_is_a_failure_to_retry() -> None:
    from tests.ports import free_port

    gateway = mailer(f"smtp://127.0.0.1:{free_port()}").gateway
    with pytest.raises(MailFailed) as failed, gateway.connect():
        pass
    assert not failed.value.ambiguous


# -- the outbox through the job, on both databases -----------------------------------------


@pytest.fixture
def smtp_context(context_with: Callable[..., AppContext], smtp: tuple[MailSink, str]) -> AppContext:
    return context_with(email_gateway="smtp", smtp_url=smtp[1])


def queue(context: AppContext, to: str, key: str = "update:1:1") -> int:
    with context.db.begin() as session:
        queued = mail.queue_email(
            session,
            context.keyring,
            key=key,
            kind="update",
            to=to,
            subject="Request SR-AAAAA-BBBBB: closed",
            body="Request SR-AAAAA-BBBBB is now closed.",
            language="en",
            unsubscribe_url=f"{PUBLIC_URL}/public/updates/unsubscribe/1.abc",
            now=context.clock.now(),
        )
    assert queued is not None
    return queued


def state(context: AppContext, message_id: int) -> OutgoingEmail:
    with context.db() as session:
        row = session.get(OutgoingEmail, message_id)
        assert row is not None
        return row


def test_the_job_sends_once_and_marks_it_sent(
    smtp_context: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    message_id = queue(smtp_context, "ana@example.org")
    email_jobs.send_one(smtp_context, {"message_id": message_id})
    email_jobs.send_one(smtp_context, {"message_id": message_id})  # a repeated job
    assert len(sink.to("ana@example.org")) == 1
    assert state(smtp_context, message_id).state == "sent"


def test_a_refused_mailbox_is_a_hard_bounce_and_stops_all_mail_to_it(
    smtp_context: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    sink.refuse.add("gone@example.org")
    first = queue(smtp_context, "gone@example.org")
    email_jobs.send_one(smtp_context, {"message_id": first})
    assert state(smtp_context, first).state == "failed"
    # The server's reply names the address; the failure kept in clear text does not.
    failure = state(smtp_context, first).failure or ""
    assert failure.startswith("550") and "gone@example.org" not in failure
    with smtp_context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(EmailSuppression)) == 1
        assert mail.is_suppressed(session, smtp_context.keyring, "gone@example.org")
    with smtp_context.db.begin() as session:
        assert (
            mail.queue_email(
                session,
                smtp_context.keyring,
                key="update:1:2",
                kind="update",
                to="gone@example.org",
                subject="s",
                body="b",
                language="en",
                unsubscribe_url=None,
                now=smtp_context.clock.now(),
            )
            is None
        )
    assert sink.received == []


def test_try_later_puts_it_back_and_it_goes_when_the_server_is_back(
    smtp_context: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    sink.mode = "later"
    message_id = queue(smtp_context, "ana@example.org")
    with pytest.raises(MailFailed):
        email_jobs.send_one(smtp_context, {"message_id": message_id})
    assert state(smtp_context, message_id).state == "queued"
    sink.mode = "accept"
    email_jobs.send_one(smtp_context, {"message_id": message_id})
    assert state(smtp_context, message_id).state == "sent"
    assert len(sink.received) == 1


def test_a_dropped_connection_leaves_it_sending_and_a_retry_keeps_its_message_id(
    smtp_context: AppContext, smtp: tuple[MailSink, str]
) -> None:
    from datetime import timedelta

    sink, _ = smtp
    sink.mode = "drop"
    message_id = queue(smtp_context, "ana@example.org")
    with pytest.raises(MailFailed) as failed:
        email_jobs.send_one(smtp_context, {"message_id": message_id})
    assert failed.value.ambiguous
    assert state(smtp_context, message_id).state == "sending"
    sink.mode = "accept"
    email_jobs.send_one(smtp_context, {"message_id": message_id})  # too soon: left alone
    assert len(sink.received) == 1
    smtp_context.clock.advance(timedelta(minutes=6))  # type: ignore[attr-defined]
    email_jobs.send_due(smtp_context, {})
    email_jobs.send_one(smtp_context, {"message_id": message_id})
    first, second = sink.received
    assert first["Message-ID"] == second["Message-ID"]
    assert state(smtp_context, message_id).state == "sent"


def test_a_bounce_or_complaint_recorded_through_the_api_stops_mail(
    context: AppContext, client: object, staff: object
) -> None:
    from fastapi.testclient import TestClient

    from tests.support import StaffFactory, audit_entry

    assert isinstance(client, TestClient) and isinstance(staff, StaffFactory)
    headers = staff.headers("communications")
    response = client.post(
        "/api/email/suppressions",
        json={"email": "Ana@Example.org", "reason": "complaint"},
        headers=headers,
    )
    assert response.status_code == 200 and response.json()["new"] is True
    with context.db() as session:
        assert mail.is_suppressed(session, context.keyring, "ana@example.org")
    from services.platform.models import AuditEntry

    entry = audit_entry(context, AuditEntry.action == "email.suppress")
    assert "ana@example.org" not in str(entry.detail).lower()
    bad = client.post(
        "/api/email/suppressions",
        json={"email": "not-an-address", "reason": "complaint"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    assert (
        client.post(
            "/api/email/suppressions",
            json={"email": "a@b.org", "reason": "complaint"},
            headers=staff.headers("agent"),
        ).status_code
        == 403
    )


# -- TLS: STARTTLS when offered, and TLS from the start ------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, and its key (PEM files)."""
    cert_file, key_file = self_signed(tmp_path_factory.mktemp("tls"), ca=True)
    return str(cert_file), str(key_file)


def tls_pair(certificate: tuple[str, str]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*certificate)
    return server, ssl.create_default_context(cafile=certificate[0])


def tls_mailer(url: str, client: ssl.SSLContext, *, require_tls: bool = False) -> Mailer:
    plain = mailer(url)
    gateway = SmtpGateway(
        SmtpServer.parse(url), require_tls=require_tls, timeout=5.0, context=client
    )
    return Mailer(
        gateway=gateway,
        sender=plain.sender,
        public_url=plain.public_url,
        rate_per_second=plain.rate_per_second,
        max_attempts=plain.max_attempts,
    )


def test_starttls_is_used_when_the_server_offers_it(certificate: tuple[str, str]) -> None:
    server, client = tls_pair(certificate)
    # This server refuses mail from anyone who did not upgrade first.
    with smtp_server(tls_context=server, require_starttls=True) as (sink, url):
        sending = tls_mailer(url, client, require_tls=True)
        with sending.gateway.connect() as connection:
            connection.send(build(sending, "ana@example.org", letter(), key="k", at=AT))
    assert [str(message["To"]) for message in sink.received] == ["ana@example.org"]


def test_smtps_is_tls_from_the_first_byte(certificate: tuple[str, str]) -> None:
    server, client = tls_pair(certificate)
    with smtp_server(ssl_context=server) as (sink, url):
        secure = url.replace("smtp://", "smtps://")
        sending = tls_mailer(secure, client)
        with sending.gateway.connect() as connection:
            connection.send(build(sending, "ana@example.org", letter(), key="k", at=AT))
        # The same server spoken to in the clear does not work.
        with pytest.raises(MailFailed), mailer(url, timeout=2.0).gateway.connect() as plain:
            plain.send(build(sending, "ana@example.org", letter(), key="k2", at=AT))
    assert len(sink.received) == 1


def test_a_certificate_that_is_not_trusted_is_refused(certificate: tuple[str, str]) -> None:
    server, _ = tls_pair(certificate)
    with (
        smtp_server(tls_context=server) as (sink, url),
        pytest.raises(MailFailed),
        mailer(url).gateway.connect() as connection,
    ):
        connection.send(build(mailer(url), "ana@example.org", letter(), key="k", at=AT))
    assert sink.received == []
