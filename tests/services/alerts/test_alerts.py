"""News alerts: double opt-in that stores no address before confirmation, one-click
unsubscribe with no session, alerts sent once to each confirmed subscriber even when
the worker dies mid-send, bounces that stop mail, and tracking off unless turned on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.alerts import jobs as alert_jobs
from services.alerts import service as alerts
from services.alerts.models import Alert, AlertSignup, AlertSubscriber
from services.alerts.sending import Pace, send_alert
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.fakes.smtp_server import MailSink
from tests.support import (
    PUBLIC_URL,
    Meanwhile,
    StaffFactory,
    audit_entries,
    confirmed_subscriber,
    served,
)

ALERT = {"subject": "Leaf collection starts Monday", "body": "Put leaves at the curb by 7 am."}


@pytest.fixture
def mailed(context_with: Callable[..., AppContext], smtp: tuple[MailSink, str]) -> AppContext:
    return context_with(email_gateway="smtp", smtp_url=smtp[1])


@pytest.fixture
def api(mailed: AppContext) -> Iterator[TestClient]:
    with served(mailed) as test_client:
        yield test_client


def drain(context: AppContext) -> None:
    """Run every queued job here, in turn (the worker's part)."""
    huey = context.jobs.huey
    while (task := huey.dequeue()) is not None:
        huey.execute(task)


def link(message: Any, kind: str) -> str:
    text = message.get_body(("plain",)).get_content()
    found = re.search(rf"{re.escape(PUBLIC_URL)}(/public/alerts/{kind}/\S+)", text)
    assert found is not None, text
    return found[1]


def subscribe(
    api: TestClient, context: AppContext, sink: MailSink, address: str, language: str = "en"
) -> None:
    response = api.post("/public/alerts/subscribe", json={"email": address, "language": language})
    assert response.status_code == 202, response.text
    drain(context)
    confirmation = sink.to(address)[-1]
    assert api.post(link(confirmation, "confirm")).status_code == 200


def all_text(context: AppContext) -> str:
    """Every value of every row of every table, as text (to look for an address)."""
    seen = []
    with context.db() as session:
        inspector = sa.inspect(context.engine)
        for name in inspector.get_table_names():
            for row in session.execute(sa.text(f'SELECT * FROM "{name}"')):
                seen.append(repr(tuple(row)))
    return "\n".join(seen)


def test_double_opt_in_stores_no_address_before_confirmation(
    api: TestClient, mailed: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    response = api.post(
        "/public/alerts/subscribe", json={"email": "Rosa@Example.org", "language": "es"}
    )
    assert response.status_code == 202
    drain(mailed)
    [confirmation] = sink.to("rosa@example.org")
    assert "rosa@example.org" not in all_text(mailed).lower()
    with mailed.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSubscriber)) == 0
        [signup] = session.scalars(sa.select(AlertSignup)).all()
        assert signup.language == "es" and len(signup.token_hash) == 64
    path = link(confirmation, "confirm")
    assert api.get(path).status_code == 200  # the page: a button, nothing confirmed
    with mailed.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSubscriber)) == 0
    assert api.post(path).status_code == 200
    with mailed.db() as session:
        [subscriber] = session.scalars(sa.select(AlertSubscriber)).all()
        assert b"rosa" not in subscriber.email_sealed and subscriber.language == "es"
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSignup)) == 0
    assert api.post(path).status_code == 404  # used once


def test_a_confirmation_link_expires(
    api: TestClient, mailed: AppContext, smtp: tuple[MailSink, str]
) -> None:
    sink, _ = smtp
    api.post("/public/alerts/subscribe", json={"email": "late@example.org"})
    drain(mailed)
    clock = mailed.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=49))
    assert api.post(link(sink.to("late@example.org")[0], "confirm")).status_code == 404


def test_an_alert_goes_once_to_each_confirmed_subscriber_with_only_the_unsubscribe_link(
    api: TestClient, mailed: AppContext, smtp: tuple[MailSink, str], staff: StaffFactory
) -> None:
    sink, _ = smtp
    for address in ("a@example.org", "b@example.org"):
        subscribe(api, mailed, sink, address)
    api.post("/public/alerts/subscribe", json={"email": "pending@example.org"})  # unconfirmed
    drain(mailed)
    headers = staff.headers("communications")
    preview = api.post("/api/alerts/preview", json=ALERT, headers=headers)
    assert preview.status_code == 200 and preview.json()["recipients"] == 2
    sink.received.clear()
    sent = api.post("/api/alerts", json=ALERT, headers=headers)
    assert sent.status_code == 202, sent.text
    drain(mailed)
    assert sorted(str(m["To"]) for m in sink.received) == ["a@example.org", "b@example.org"]
    for message in sink.received:
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
        assert set(re.findall(r"https?://[^\s\"<>]+", text + html)) == {unsubscribe}
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "<img" not in html  # tracking is off by default
    counts = api.get(f"/api/alerts/{sent.json()['id']}", headers=headers).json()
    assert counts["sent"] == 2 and counts["state"] == "sent" and counts["opens"] is None
    assert api.post("/api/alerts", json=ALERT, headers=staff.headers("agent")).status_code == 403
    linked = api.post(
        "/api/alerts", json={**ALERT, "body": "See https://x.example/pay"}, headers=headers
    )
    assert linked.status_code == 422
    # A line break in the subject would write headers of its own: refused, nothing sent.
    injected = {**ALERT, "subject": "Hello\r\nBcc: everyone@example.org"}
    for path in ("/api/alerts/preview", "/api/alerts"):
        refused = api.post(path, json=injected, headers=headers)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "subject"


def test_one_click_unsubscribe_without_a_session_is_final(
    api: TestClient, mailed: AppContext, smtp: tuple[MailSink, str], staff: StaffFactory
) -> None:
    sink, _ = smtp
    subscribe(api, mailed, sink, "leaving@example.org")
    headers = staff.headers("communications")
    api.post("/api/alerts", json=ALERT, headers=headers)
    drain(mailed)
    alert_mail = sink.to("leaving@example.org")[-1]
    path = str(alert_mail["List-Unsubscribe"]).strip().strip("<>").removeprefix(PUBLIC_URL)
    assert api.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with mailed.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSubscriber)) == 0
    received = len(sink.received)
    api.post("/api/alerts", json=ALERT, headers=headers)
    drain(mailed)
    assert len(sink.received) == received  # nothing more to that address
    # A later sign-up starts over: nothing until its new link is followed.
    api.post("/public/alerts/subscribe", json={"email": "leaving@example.org"})
    drain(mailed)
    assert "/public/alerts/confirm/" in sink.received[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with mailed.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSubscriber)) == 0


class Crash(Exception):
    """The worker dies (here: between two messages, after some were handed over)."""


def test_a_crash_mid_alert_resumes_without_sending_anyone_twice(
    api: TestClient, mailed: AppContext, smtp: tuple[MailSink, str], staff: StaffFactory
) -> None:
    sink, _ = smtp
    for n in range(25):
        confirmed_subscriber(mailed, f"s{n:02d}@example.org")
    sink.received.clear()
    sent = api.post("/api/alerts", json=ALERT, headers=staff.headers("communications"))
    mailed.jobs.huey.flush()  # the queued send is taken by the worker that will die
    with mailed.db() as session:
        alert_id = session.scalar(sa.select(Alert.id))
    calls = {"n": 0}

    def dying(_seconds: float) -> None:
        pass

    class DyingPace(Pace):
        def wait(self) -> None:
            calls["n"] += 1
            if calls["n"] == 14:
                raise Crash

    run = alert_jobs.run_for(mailed)
    with pytest.raises(Crash):
        send_alert(run, alert_id, DyingPace(1000, dying))
    assert len(sink.received) == 13
    assert send_alert(run, alert_id, Pace(1000)) == "busy"  # the dead worker's lease holds
    clock = mailed.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=3))
    alert_jobs.resume(mailed, {})
    drain(mailed)
    recipients = [str(message["To"]) for message in sink.received]
    assert len(recipients) == len(set(recipients))  # nobody twice
    counts = api.get(
        f"/api/alerts/{sent.json()['id']}", headers=staff.headers("communications")
    ).json()
    assert counts["state"] == "sent"
    assert counts["sent"] + counts["uncertain"] == 25 and counts["uncertain"] <= 10
    # Those handed over as it died are counted uncertain, not sent again; all others got it.
    assert counts["sent"] + counts["uncertain"] == 25 and 0 < counts["uncertain"] <= 10
    assert counts["sent"] <= len(recipients) <= 25


def test_a_hard_bounce_stops_alerts_to_that_address(
    api: TestClient, mailed: AppContext, smtp: tuple[MailSink, str], staff: StaffFactory
) -> None:
    sink, _ = smtp
    for address in ("ok@example.org", "gone@example.org"):
        subscribe(api, mailed, sink, address)
    sink.refuse.add("gone@example.org")
    headers = staff.headers("communications")
    first = api.post("/api/alerts", json=ALERT, headers=headers).json()
    drain(mailed)
    counts = api.get(f"/api/alerts/{first['id']}", headers=headers).json()
    assert counts["sent"] == 1 and counts["failed"] == 1
    sink.refuse.clear()
    sink.received.clear()
    second = api.post("/api/alerts", json={**ALERT, "subject": "Next alert"}, headers=headers)
    assert second.status_code == 202, second.text
    drain(mailed)
    assert [str(m["To"]) for m in sink.received] == ["ok@example.org"]


def test_tracking_when_turned_on_is_disclosed_and_counted_per_alert_only(
    context_with: Callable[..., AppContext], smtp: tuple[MailSink, str], staff: StaffFactory
) -> None:
    sink, url = smtp
    tracked = context_with(email_gateway="smtp", smtp_url=url, alert_tracking=True)
    with served(tracked) as api:
        assert "how many people opened" in api.get("/public/alerts").text
        subscribe(api, tracked, sink, "reader@example.org")
        headers = StaffFactory(tracked).headers("communications")
        sent = api.post("/api/alerts", json=ALERT, headers=headers).json()
        drain(tracked)
        html = sink.to("reader@example.org")[-1].get_body(("html",)).get_content()  # type: ignore[union-attr]
        [pixel] = re.findall(r'<img src="([^"]+)"', html)
        assert pixel == f"{PUBLIC_URL}/public/alerts/{sent['id']}/open.gif"  # no one in it
        assert "how many people opened" in html
        assert api.get(pixel.removeprefix(PUBLIC_URL)).status_code == 200
        assert api.get(f"/api/alerts/{sent['id']}", headers=headers).json()["opens"] == 1


def test_the_same_alert_again_within_the_hour_is_refused_and_sends_nothing(
    api: TestClient, mailed: AppContext, smtp: tuple[MailSink, str], staff: StaffFactory
) -> None:
    sink, _ = smtp
    subscribe(api, mailed, sink, "a@example.org")
    drain(mailed)
    headers = staff.headers("communications")
    first = api.post("/api/alerts", json=ALERT, headers=headers)
    assert first.status_code == 202, first.text
    drain(mailed)
    sink.received.clear()

    again = api.post("/api/alerts", json=ALERT, headers=headers)
    assert again.status_code == 409, again.text
    assert first.json()["id"] in again.json()["detail"]
    drain(mailed)
    assert sink.received == []
    listed = api.get("/api/alerts", headers=headers).json()["items"]
    assert [alert["id"] for alert in listed] == [first.json()["id"]]
    # Refused, and the refusal audited.
    sends = audit_entries(mailed, AuditEntry.action == "alerts.send")
    assert [entry.outcome for entry in sends] == ["ok", "conflict"]

    # Changed, it goes; and word for word again once the hour has passed.
    changed = api.post(
        "/api/alerts", json={**ALERT, "body": ALERT["body"] + " Thank you."}, headers=headers
    )
    assert changed.status_code == 202, changed.text
    clock = mailed.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=1, seconds=1))
    assert api.post("/api/alerts", json=ALERT, headers=headers).status_code == 202


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_sends_of_the_same_alert_at_once_send_it_once(
    api: TestClient, mailed: AppContext, staff: StaffFactory
) -> None:
    """PostgreSQL: while one send of an alert is still being written, the same alert sent
    again waits for it, then finds it and is refused."""
    headers = staff.headers("communications")
    with mailed.db.begin() as session:
        draft = alerts.Draft(ALERT["subject"], ALERT["body"])
        alerts.create_alert(session, draft, created_by=None, tracking=False, now=mailed.clock.now())
        second = Meanwhile(lambda: api.post("/api/alerts", json=ALERT, headers=headers))
    assert second.waited  # for the first send's transaction
    assert second.answer() == 409
    with mailed.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 1
