"""News alerts, one function per use case: public sign-up, confirmation and one-click
unsubscribe (audited without the address), and staff previewing, sending and reading
alerts (audited with their counts)."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message

from sqlalchemy import func, select, update

from services.alerts import service as alerts
from services.alerts.models import Alert, AlertSubscriber
from services.alerts.schemas import AlertIn, AlertList, AlertOut, PreviewOut, SubscribeOut
from services.email import service as mail
from services.email.compose import Mailer, build
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import existing
from services.platform.resources import resource

PUBLIC = Actor(None, None, None, None)


def subscribe(context: AppContext, email: str, language: str) -> SubscribeOut:
    """Start a sign-up: a confirmation email goes out through the queue (with the
    address only sealed in its payload); nothing of the address is stored but a keyed
    hash. The answer is the same whether or not the address is subscribed already."""
    policy = context.part(alerts.AlertPolicy)
    with unit_of_work(context, PUBLIC, "alerts.sign_up", object_type="alert_signup") as work:
        address = mail.email_address(email)
        confirmation = alerts.sign_up(
            work.session, context.keyring, address, language=language, now=work.now, policy=policy
        )
        work.note(confirmation_sent=confirmation is not None)
    if confirmation is not None:
        context.jobs.enqueue(
            "alerts.confirmation",
            {
                "signup_id": confirmation.signup_id,
                "token": confirmation.token,
                "language": confirmation.language,
            },
        )
    return SubscribeOut(tracking=policy.tracking)


def send_confirmation(context: AppContext, token: str, language: str = "en") -> None:
    """Mail a sign-up's confirmation (the job). The address is opened from the token."""
    address = alerts.confirmation_address(context.keyring, token)
    if address is None:
        return
    mailer = context.part(Mailer)
    letter = alerts.confirmation_letter(context.part(alerts.AlertPolicy), token, language)
    message = build(mailer, address, letter, key="", at=context.clock.now())
    context.jobs.take_rate("email-sender", per_second=mailer.rate_per_second)
    with mailer.gateway.connect() as connection:
        connection.send(message)


def confirm(context: AppContext, token: str) -> bool:
    """Follow a confirmation link: the address is stored, sealed, as a subscriber."""
    with unit_of_work(context, PUBLIC, "alerts.confirm", object_type="alert_subscriber") as work:
        subscriber = alerts.confirm(work.session, context.keyring, token, now=work.now)
        work.note(confirmed=subscriber is not None)
        return subscriber is not None


def unsubscribe(context: AppContext, token: str) -> bool:
    """One click: the subscriber is deleted at once; nothing more is sent to them."""
    with unit_of_work(
        context, PUBLIC, "alerts.unsubscribe", object_type="alert_subscriber"
    ) as work:
        done = alerts.unsubscribe(work.session, context.keyring, token)
        work.note(genuine=done)
        return done


def _draft(body: AlertIn) -> alerts.Draft:
    return alerts.Draft(body.subject, body.body, body.subject_es, body.body_es)


def _parts(message: Message) -> dict[str, str]:
    found = {
        "subject": str(make_header(decode_header(str(message["Subject"])))),
        "text": "",
        "html": "",
    }
    for part in message.walk():
        kind = {"text/plain": "text", "text/html": "html"}.get(part.get_content_type())
        payload = part.get_payload(decode=True)
        if kind and isinstance(payload, bytes):
            found[kind] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def preview(context: AppContext, actor: Actor, body: AlertIn) -> PreviewOut:
    """The alert as subscribers would get it, in English and Spanish, and how many
    would get it now. Nothing is stored or sent."""
    policy = context.part(alerts.AlertPolicy)
    mailer = context.part(Mailer)
    with unit_of_work(context, actor, "alerts.preview", object_type="alert") as work:
        draft = _draft(body)
        alerts.check_draft(draft)
        alert = Alert(
            public_id="AL-PREVIEW",
            subject=draft.subject,
            body=draft.body,
            subject_es=draft.subject_es,
            body_es=draft.body_es,
            tracking=policy.tracking,
        )
        count = work.session.scalar(select(func.count()).select_from(AlertSubscriber)) or 0
        work.note(recipients=count)
        sample = f"{policy.public_url}/public/alerts/unsubscribe/0.preview"
        rendered = {
            language: _parts(
                build(
                    mailer,
                    "subscriber@example.org",
                    alerts.alert_letter(alert, language, policy=policy, unsubscribe=sample),
                    key="preview",
                    at=work.now,
                )
            )
            for language in ("en", "es")
        }
        return PreviewOut(
            recipients=count,
            english=rendered["en"],
            spanish=rendered["es"],
            tracking=policy.tracking,
        )


def _out(alert: Alert, context: AppContext) -> AlertOut:
    return resource(
        AlertOut,
        alert,
        id=alert.public_id,
        created_at=alert.created_at.astimezone(context.city_tz),
        finished_at=alert.finished_at.astimezone(context.city_tz) if alert.finished_at else None,
        opens=alert.opens if alert.tracking else None,
    )


def send(context: AppContext, actor: Actor, body: AlertIn) -> AlertOut:
    """Send an alert to every subscriber confirmed by now, through the queue at the
    sender's rate. InvalidField for a link or an SSN-like number in the text."""
    policy = context.part(alerts.AlertPolicy)
    with unit_of_work(context, actor, "alerts.send", object_type="alert") as work:
        alert = alerts.create_alert(
            work.session,
            _draft(body),
            created_by=actor.user_id,
            tracking=policy.tracking,
            now=work.now,
        )
        work.object_id = alert.public_id
        work.note(recipients=alert.recipients, tracking=alert.tracking)
        result = _out(alert, context)
        alert_id = alert.id
    context.jobs.enqueue("alerts.send", {"alert_id": alert_id})
    return result


def read(context: AppContext, actor: Actor, public_id: str) -> AlertOut:
    """An alert and its counts (in total, never per person)."""
    with unit_of_work(
        context, actor, "alerts.view", object_type="alert", object_id=public_id
    ) as work:
        alert = existing(
            work.session.scalar(select(Alert).where(Alert.public_id == public_id)), "alert"
        )
        return _out(alert, context)


def list_alerts(context: AppContext, actor: Actor, *, limit: int = 50) -> AlertList:
    with unit_of_work(context, actor, "alerts.list", object_type="alert") as work:
        rows = work.session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)).all()
        return AlertList(items=[_out(alert, context) for alert in rows])


def count_open(context: AppContext, public_id: str) -> None:
    """A tracked alert was opened: one more in its total (no person, no address, no time
    of the open is kept)."""
    with context.db.begin() as session:
        session.execute(
            update(Alert)
            .where(Alert.public_id == public_id, Alert.tracking.is_(True))
            .values(opens=Alert.opens + 1)
        )
