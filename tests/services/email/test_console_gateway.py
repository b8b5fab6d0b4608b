"""The console gateway (the embedded default, for trials): nothing leaves the building,
and staff who read the outbox can read what it kept, so a person who signs up for news
alerts in a trial can be shown the confirmation link and confirm."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.mime.text import MIMEText
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.alerts.models import AlertSubscriber
from services.email.gateway import KEPT_LIMIT, ConsoleEmail
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.fakes.smtp_server import MailSink
from tests.support import (
    PUBLIC_URL,
    StaffFactory,
    audit_entries,
    make_settings,
    running,
    served,
)

CONFIRM = re.compile(rf"{re.escape(PUBLIC_URL)}(/public/alerts/confirm/\S+)")


def drain(context: AppContext) -> None:
    """Run every queued job here, in turn (the worker's part)."""
    huey = context.jobs.huey
    while (task := huey.dequeue()) is not None:
        huey.execute(task)


@pytest.fixture
def api(sqlite_context: AppContext) -> Iterator[TestClient]:
    with served(sqlite_context) as client:
        yield client


def test_a_trial_sign_up_is_confirmed_from_the_link_staff_read_in_the_console_gateway(
    api: TestClient, sqlite_context: AppContext
) -> None:
    staff = StaffFactory(sqlite_context)
    agent = staff.headers("agent", "ana")
    assert api.get("/api/email/console", headers=agent).json() == {
        "gateway": "console",
        "items": [],
    }
    signed_up = api.post(
        "/public/alerts/subscribe", json={"email": "Rosa@Example.org", "language": "es"}
    )
    assert signed_up.status_code == 202, signed_up.text
    drain(sqlite_context)  # the worker hands the confirmation to the gateway

    read = api.get("/api/email/console", headers=agent)
    assert read.status_code == 200, read.text
    assert read.json()["gateway"] == "console"
    [kept] = read.json()["items"]
    assert kept["to"] == "rosa@example.org"
    # Spanish, as asked: the encoded subject is shown as people read it.
    assert kept["subject"].startswith("Confirme su suscripción a las noticias de")
    handed = datetime.fromisoformat(kept["handed_at"])
    assert handed == sqlite_context.clock.now() and handed.utcoffset() == timedelta(hours=-5)
    link = CONFIRM.search(kept["text"])
    assert link is not None, kept["text"]

    # The person follows the link: a page with a button, which confirms.
    shown = api.get(link[1])
    assert shown.status_code == 200 and "Confirm / Confirmar" in shown.text
    with sqlite_context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSubscriber)) == 0
    confirmed = api.post(link[1])
    assert confirmed.status_code == 200 and "Subscribed / Suscrito" in confirmed.text
    with sqlite_context.db() as session:
        [subscriber] = session.scalars(sa.select(AlertSubscriber)).all()
        assert subscriber.language == "es"

    # Each read is audited with its count and the gateway, never an address.
    first, second = audit_entries(sqlite_context, AuditEntry.action == "email.console")
    assert first.detail == {"gateway": "console", "results": 0}
    assert second.detail == {"gateway": "console", "results": 1}
    assert (second.actor_name, second.outcome) == ("ana", "ok")
    assert "rosa" not in repr(second.detail).lower()


def test_the_newest_is_first_and_only_the_last_200_are_kept() -> None:
    clock = ManualClock(datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
    gateway = ConsoleEmail(clock=clock)
    for n in range(KEPT_LIMIT + 5):
        message = MIMEText(f"Message {n}", "plain", "utf-8")
        message["To"] = f"person{n}@example.org"
        message["Subject"] = f"Number {n}"
        with gateway.connect() as connection:
            connection.send(message)
        clock.advance(timedelta(seconds=1))
    kept = gateway.kept()
    assert len(kept) == KEPT_LIMIT == 200
    assert [kept[0].subject, kept[-1].subject] == [f"Number {KEPT_LIMIT + 4}", "Number 5"]
    assert kept[0].to == f"person{KEPT_LIMIT + 4}@example.org"
    assert kept[0].text == f"Message {KEPT_LIMIT + 4}"
    assert kept[0].handed_at - kept[-1].handed_at == timedelta(seconds=KEPT_LIMIT - 1)


def test_staff_who_may_not_read_the_outbox_are_refused(
    api: TestClient, sqlite_context: AppContext
) -> None:
    staff = StaffFactory(sqlite_context)
    for role in ("communications", "admin", "knowledge_editor"):
        refused = api.get("/api/email/console", headers=staff.headers(role))
        assert refused.status_code == 403, role
    assert api.get("/api/email/console").status_code == 401
    for role in ("agent", "supervisor", "privacy_officer"):
        assert api.get("/api/email/console", headers=staff.headers(role)).status_code == 200
    # The refusals are in the trail; only the three reads allowed are audited as reads.
    denied = audit_entries(sqlite_context, AuditEntry.action == "access.denied")
    assert [entry.detail["route"] for entry in denied] == ["/api/email/console"] * 4
    reads = audit_entries(sqlite_context, AuditEntry.action == "email.console")
    assert [entry.actor_role for entry in reads] == ["agent", "supervisor", "privacy_officer"]


def test_with_smtp_nothing_is_kept_and_the_answer_says_so(
    sqlite_url: str, tmp_path: Path, clock: ManualClock, smtp: tuple[MailSink, str]
) -> None:
    sink, url = smtp
    settings = make_settings(sqlite_url, tmp_path / "var", email_gateway="smtp", smtp_url=url)
    with running(settings, clock) as context, served(context) as client:
        client.post("/public/alerts/subscribe", json={"email": "tom@example.org"})
        drain(context)
        [sent] = sink.to("tom@example.org")  # it went to the mail server
        assert "/public/alerts/confirm/" in sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        agent = StaffFactory(context).headers("agent", "ana")
        read = client.get("/api/email/console", headers=agent)
        assert read.status_code == 200
        assert read.json() == {"gateway": "smtp", "items": []}
        [entry] = audit_entries(context, AuditEntry.action == "email.console")
        assert entry.detail == {"gateway": "smtp", "results": 0}
