"""Sending an alert to every subscriber, resumable after a crash, never twice to anyone.

One worker holds an alert at a time (a lease renewed as it goes). Subscribers are sent
to in id order, a window of a few at a time: before a window, the last id in it is
committed as ``attempting``; after it, the ``cursor`` moves to it with the counts, in
the same commit that starts the next window (one commit per window). A
worker that dies leaves ``attempting`` ahead of ``cursor``: the next one counts the
subscribers between them as uncertain (they may have got it) and starts after them, so
nobody gets the alert twice, and at most one window is left uncertain. Every commit is
fenced on ``attempting``, so a worker whose lease ran out stops as soon as it notices.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.alerts import service as alerts
from services.alerts.models import Alert, AlertRetry, AlertSubscriber
from services.email import service as mail
from services.email.compose import Mailer, build
from services.email.gateway import Connection, MailFailed, MailRefused
from services.email.sending import HARD_BOUNCE_CODES
from storage.crypto import Keyring

LEASE = timedelta(minutes=2)
WINDOW = 10
BATCH = 500
MAX_RETRIES = 3


class Pace:
    """At most ``per_second`` messages a second from this sender."""

    def __init__(self, per_second: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self.sleep = sleep
        self.next_at = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next_at:
            self.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval


@dataclass
class Run:
    sessions: sessionmaker[Session]
    keyring: Keyring
    mailer: Mailer
    policy: alerts.AlertPolicy
    clock: Callable[[], datetime]
    window: int = WINDOW
    batch: int = BATCH


class LostLease(Exception):
    """Another worker took the alert over (this one was too slow to renew its lease)."""


def _claim(run: Run, alert_id: int) -> Alert | None:
    now = run.clock()
    with run.sessions.begin() as session:
        claimed = session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                Alert.state == "sending",
                or_(Alert.lease_until.is_(None), Alert.lease_until < now),
            )
            .values(lease_until=now + LEASE)
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        alert = session.get(Alert, alert_id)
        assert alert is not None
        if alert.attempting is not None and alert.attempting > alert.cursor:
            # A worker died handing these over: they may have it, so they are not sent again.
            alert.uncertain += int(
                session.scalar(
                    select(func.count())
                    .select_from(AlertSubscriber)
                    .where(
                        AlertSubscriber.id > alert.cursor,
                        AlertSubscriber.id <= alert.attempting,
                    )
                )
                or 0
            )
            alert.cursor = alert.attempting
        alert.attempting = None
        session.flush()
        session.expunge(alert)
        return alert


def _advance(
    run: Run,
    alert_id: int,
    *,
    fence: int | None,
    cursor: int,
    attempting: int | None,
    sent: int,
    failed: int,
) -> None:
    with run.sessions.begin() as session:
        moved = session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                Alert.attempting.is_(None) if fence is None else Alert.attempting == fence,
            )
            .values(
                cursor=cursor,
                attempting=attempting,
                sent=Alert.sent + sent,
                failed=Alert.failed + failed,
                lease_until=run.clock() + LEASE,
            )
        )
        if not getattr(moved, "rowcount", 0):
            raise LostLease(f"alert {alert_id} was taken over")


@dataclass
class Outcome:
    """What a window of sends came to: counts, "try later"s and hard bounces."""

    sent: int = 0
    failed: int = 0
    retries: list[int] = field(default_factory=list)
    bounced: list[str] = field(default_factory=list)


def _send_one(
    run: Run,
    connection: Connection,
    alert: Alert,
    recipient: tuple[int, bytes, str],
    outcome: Outcome,
) -> None:
    subscriber_id, sealed, language = recipient
    address = run.keyring.open(sealed, alerts.subscriber_place(subscriber_id))
    letter = alerts.alert_letter(
        alert,
        language,
        policy=run.policy,
        unsubscribe=alerts.unsubscribe_url(run.keyring, run.policy, subscriber_id),
    )
    message = build(
        run.mailer, address, letter, key=f"{alert.public_id}.{subscriber_id}", at=run.clock()
    )
    try:
        connection.send(message)
        outcome.sent += 1
    except MailRefused as refused:
        outcome.failed += 1
        if refused.code in HARD_BOUNCE_CODES:
            outcome.bounced.append(address)
    except MailFailed as failed:
        if failed.ambiguous:
            raise
        outcome.retries.append(subscriber_id)


def _record(run: Run, alert_id: int, outcome: Outcome) -> None:
    if not (outcome.retries or outcome.bounced):
        return
    now = run.clock()
    with run.sessions.begin() as session:
        for subscriber_id in outcome.retries:
            session.add(AlertRetry(alert_id=alert_id, subscriber_id=subscriber_id, attempts=1))
        for address in outcome.bounced:
            mail.suppress(session, run.keyring, address, reason="hard_bounce", now=now)


def send_alert(run: Run, alert_id: int, pace: Pace) -> str:
    """Send ``alert_id`` on from where it got to; its state, or "busy" when another
    worker holds it. MailFailed (the server went away) leaves it to be resumed."""
    alert = _claim(run, alert_id)
    if alert is None:
        with run.sessions() as session:
            current = session.get(Alert, alert_id)
            return (
                "gone"
                if current is None
                else ("busy" if current.state == "sending" else current.state)
            )
    cursor = alert.cursor
    with run.mailer.gateway.connect() as connection:
        while True:
            with run.sessions() as session:
                rows = session.execute(
                    select(
                        AlertSubscriber.id,
                        AlertSubscriber.email_sealed,
                        AlertSubscriber.language,
                        AlertSubscriber.email_index,
                    )
                    .where(
                        AlertSubscriber.id > cursor,
                        AlertSubscriber.id <= alert.last_subscriber_id,
                    )
                    .order_by(AlertSubscriber.id)
                    .limit(run.batch)
                ).all()
                stopped = mail.suppressed_indexes(session, [row.email_index for row in rows])
            if not rows:
                break
            windows = [
                rows[start : start + run.window] for start in range(0, len(rows), run.window)
            ]
            # One commit between two windows: this one done, the next one started.
            _advance(
                run,
                alert_id,
                fence=None,
                cursor=cursor,
                attempting=windows[0][-1].id,
                sent=0,
                failed=0,
            )
            for number, window in enumerate(windows):
                last = window[-1].id
                outcome = Outcome()
                for row in window:
                    if row.email_index in stopped:
                        continue
                    pace.wait()
                    _send_one(
                        run, connection, alert, (row.id, row.email_sealed, row.language), outcome
                    )
                following = windows[number + 1][-1].id if number + 1 < len(windows) else None
                _advance(
                    run,
                    alert_id,
                    fence=last,
                    cursor=last,
                    attempting=following,
                    sent=outcome.sent,
                    failed=outcome.failed,
                )
                cursor = last
                _record(run, alert_id, outcome)
        _retry(run, connection, alert, pace)
    with run.sessions.begin() as session:
        session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.attempting.is_(None))
            .values(state="sent", finished_at=run.clock(), lease_until=None)
        )
    return "sent"


def _retry(run: Run, connection: Connection, alert: Alert, pace: Pace) -> None:
    """Subscribers whose server said "later": each is taken off the list before it is
    tried (so it is never tried twice at once), and put back if it says "later" again."""
    while True:
        with run.sessions.begin() as session:
            retry = session.scalars(
                select(AlertRetry).where(AlertRetry.alert_id == alert.id).limit(1)
            ).first()
            if retry is None:
                return
            subscriber = session.get(AlertSubscriber, retry.subscriber_id)
            attempts = retry.attempts
            session.execute(delete(AlertRetry).where(AlertRetry.id == retry.id))
            found = (
                (subscriber.id, subscriber.email_sealed, subscriber.language)
                if subscriber
                else None
            )
        if found is None:
            continue
        outcome = Outcome()
        pace.wait()
        _send_one(run, connection, alert, found, outcome)
        again = outcome.retries
        with run.sessions.begin() as session:
            session.execute(
                update(Alert)
                .where(Alert.id == alert.id)
                .values(
                    sent=Alert.sent + outcome.sent,
                    failed=Alert.failed
                    + outcome.failed
                    + (1 if again and attempts >= MAX_RETRIES else 0),
                    lease_until=run.clock() + LEASE,
                )
            )
            if again and attempts < MAX_RETRIES:
                session.add(
                    AlertRetry(alert_id=alert.id, subscriber_id=found[0], attempts=attempts + 1)
                )
            for address in outcome.bounced:
                mail.suppress(session, run.keyring, address, reason="hard_bounce", now=run.clock())


def unfinished(session: Session, *, now: datetime) -> list[int]:
    """Alerts still sending whose worker's lease ran out (a crash): to be resumed."""
    return list(
        session.scalars(
            select(Alert.id).where(
                Alert.state == "sending",
                or_(Alert.lease_until.is_(None), Alert.lease_until < now),
            )
        )
    )
