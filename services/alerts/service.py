"""News alerts: double opt-in sign-up, one-click unsubscribe, and the alerts themselves.

Sign-up stores no address. The confirmation link carries the address sealed under the
city's keys (bound to the sign-up's number), and the sign-up row holds only a SHA-256
of that link's token, a keyed hash of the address and an expiry; following the link
before it expires opens the token, checks it against the row, and only then stores the
address, sealed and blind-indexed, as a subscriber. Unsubscribing deletes the
subscriber: it is final, and a later sign-up starts over with a new confirmation.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.alerts.models import Alert, AlertRetry, AlertSignup, AlertSubscriber
from services.email import service as mail
from services.email.compose import Letter
from services.platform import public_ids, ssn
from services.platform.errors import InvalidField, Problem
from storage.crypto import CryptoError, FieldContext, Keyring
from storage.db import one_at_a_time
from storage.upsert import insert_ignoring_conflicts

MAILING_LIST = "news-alerts"
# Unconfirmed sign-ups for one address at a time: more are dropped without a word.
MAX_PENDING = 3
# The same alert word for word again this soon is taken for a mistake (a page reloaded
# and sent again, a request retried), not a second message to every subscriber.
REPEAT_WINDOW = timedelta(hours=1)
NEW_ALERT_LOCK = "alerts.new"  # alerts are created one at a time (storage.db.one_at_a_time)


@dataclass(frozen=True)
class AlertPolicy:
    city: str
    public_url: str
    confirm_within: timedelta
    tracking: bool


@dataclass(frozen=True)
class Confirmation:
    """A sign-up's confirmation to send: the address travels only sealed in ``token``."""

    signup_id: int
    token: str
    language: str


def _token_place(signup_id: int) -> FieldContext:
    return FieldContext("alert_signups", "confirmation", str(signup_id))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_up(
    session: Session,
    keyring: Keyring,
    address: str,
    *,
    language: str,
    now: datetime,
    policy: AlertPolicy,
) -> Confirmation | None:
    """Start a sign-up for ``address`` (already normalised); the confirmation to send,
    or None when there is nothing to send (already subscribed, suppressed, too many
    sign-ups waiting). The answer to the public is the same either way."""
    index = mail.email_index(keyring, address)
    session.execute(delete(AlertSignup).where(AlertSignup.expires_at < now))
    if session.scalar(select(AlertSubscriber.id).where(AlertSubscriber.email_index == index)):
        return None
    if mail.is_suppressed(session, keyring, address):
        return None
    waiting = session.scalar(
        select(func.count()).select_from(AlertSignup).where(AlertSignup.email_index == index)
    )
    if (waiting or 0) >= MAX_PENDING:
        return None
    signup = AlertSignup(
        email_index=index,
        token_hash="",  # set below, once the token exists
        language="es" if language == "es" else "en",
        created_at=now,
        expires_at=now + policy.confirm_within,
    )
    session.add(signup)
    session.flush()
    sealed = keyring.seal(address, _token_place(signup.id))
    token = f"{signup.id}.{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"
    signup.token_hash = _hash(token)
    session.flush()
    return Confirmation(signup_id=signup.id, token=token, language=signup.language)


def _open_token(keyring: Keyring, token: str) -> tuple[int, str] | None:
    number, _, sealed = token.partition(".")
    if not number.isdigit() or len(number) > 18 or not sealed:
        return None
    try:
        blob = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        return int(number), keyring.open(blob, _token_place(int(number)))
    except (ValueError, CryptoError):
        return None


def confirmation_address(keyring: Keyring, token: str) -> str | None:
    """The address a confirmation token carries (for the job that mails it)."""
    opened = _open_token(keyring, token)
    return None if opened is None else opened[1]


def confirm(
    session: Session, keyring: Keyring, token: str, *, now: datetime
) -> AlertSubscriber | None:
    """Follow a confirmation link: the subscriber it makes, or None for a link that is
    not genuine, was used already or has expired."""
    opened = _open_token(keyring, token)
    if opened is None:
        return None
    signup_id, address = opened
    signup = session.get(AlertSignup, signup_id)
    if signup is None or signup.token_hash != _hash(token) or signup.expires_at <= now:
        return None
    index = mail.email_index(keyring, address)
    if index != signup.email_index:
        return None
    insert_ignoring_conflicts(
        session,
        AlertSubscriber,
        {
            "email_sealed": b"",
            "email_index": index,
            "language": signup.language,
            "signed_up_at": signup.created_at,
            "confirmed_at": now,
        },
        conflict_columns=["email_index"],
    )
    subscriber = session.scalars(
        select(AlertSubscriber).where(AlertSubscriber.email_index == index)
    ).one()
    if subscriber.email_sealed == b"":
        subscriber.email_sealed = keyring.seal(address, subscriber_place(subscriber.id))
    session.execute(delete(AlertSignup).where(AlertSignup.email_index == index))
    session.flush()
    return subscriber


def subscriber_place(subscriber_id: int) -> FieldContext:
    return FieldContext("alert_subscribers", "email", str(subscriber_id))


def address_of(keyring: Keyring, subscriber: AlertSubscriber) -> str:
    return keyring.open(subscriber.email_sealed, subscriber_place(subscriber.id))


def unsubscribe(session: Session, keyring: Keyring, token: str) -> bool:
    """One click: the subscriber the link names is deleted, at once and for good.
    False for a link that is not genuine; True again for one already used."""
    subscriber_id = mail.unsubscribe_target(keyring, MAILING_LIST, token)
    if subscriber_id is None:
        return False
    session.execute(delete(AlertRetry).where(AlertRetry.subscriber_id == subscriber_id))
    session.execute(delete(AlertSubscriber).where(AlertSubscriber.id == subscriber_id))
    session.flush()
    return True


def unsubscribe_url(keyring: Keyring, policy: AlertPolicy, subscriber_id: int) -> str:
    token = mail.unsubscribe_token(keyring, MAILING_LIST, subscriber_id)
    return f"{policy.public_url}/public/alerts/unsubscribe/{token}"


# -- alerts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str
    subject_es: str | None = None
    body_es: str | None = None


def check_draft(draft: Draft) -> None:
    """InvalidField for a draft with a link (alerts carry none but the unsubscribe) or
    an SSN-like number."""
    for name in ("subject", "body", "subject_es", "body_es"):
        value = getattr(draft, name)
        if value is None:
            continue
        ssn.refuse(name, value)
        if name.startswith("subject") and any(ord(char) < 0x20 or char == "\x7f" for char in value):
            raise InvalidField(name, "must be one line of text, without control characters")
        if "http://" in value.lower() or "https://" in value.lower() or "www." in value.lower():
            raise InvalidField(
                name, "may not carry links: an alert's only link is its unsubscribe link"
            )
    if (draft.subject_es is None) != (draft.body_es is None):
        raise InvalidField("body_es", "give the Spanish subject and body together")


def confirmation_letter(policy: AlertPolicy, token: str, language: str) -> Letter:
    url = f"{policy.public_url}/public/alerts/confirm/{token}"
    if language == "es":
        return Letter(
            subject=f"Confirme su suscripción a las noticias de {policy.city}",
            paragraphs=(
                f"Alguien (esperamos que usted) pidió recibir las noticias de {policy.city} en esta dirección.",
                "Si fue usted, confirme con el enlace de abajo. Si no, ignore este correo: no guardaremos su dirección.",
                *((TRACKING_NOTE["es"],) if policy.tracking else ()),
            ),
            action_url=url,
            action_label="Confirmar",
        )
    return Letter(
        subject=f"Confirm your subscription to {policy.city} news alerts",
        paragraphs=(
            f"Someone (we hope you) asked for {policy.city} news alerts at this address.",
            "If it was you, confirm with the link below. If not, ignore this email: we will not keep your address.",
            *((TRACKING_NOTE["en"],) if policy.tracking else ()),
        ),
        action_url=url,
        action_label="Confirm",
    )


TRACKING_NOTE = {
    "en": "Alert emails contain a small image that tells us how many people opened each alert, in total; never who.",
    "es": "Los correos de noticias llevan una imagen pequeña que nos dice cuántas personas abrieron cada uno, en total; nunca quién.",
}
FOOTER = {
    "en": "You get this because you signed up for {city} news alerts. Unsubscribing is immediate and final.",
    "es": "Recibe esto porque se suscribió a las noticias de {city}. La cancelación es inmediata y definitiva.",
}


def alert_letter(alert: Alert, language: str, *, policy: AlertPolicy, unsubscribe: str) -> Letter:
    """The alert in the subscriber's language (English when there is no Spanish)."""
    spanish = language == "es" and alert.subject_es is not None and alert.body_es is not None
    subject = alert.subject_es if spanish else alert.subject
    body = alert.body_es if spanish else alert.body
    lang = "es" if spanish else "en"
    footer = FOOTER[lang].format(city=policy.city)
    if alert.tracking:
        footer += " " + TRACKING_NOTE[lang]
    return Letter(
        subject=subject or "",
        paragraphs=tuple(part.strip() for part in (body or "").split("\n\n") if part.strip()),
        unsubscribe_url=unsubscribe,
        footer=footer,
        pixel_url=f"{policy.public_url}/public/alerts/{alert.public_id}/open.gif"
        if alert.tracking
        else None,
    )


def create_alert(
    session: Session, draft: Draft, *, created_by: int | None, tracking: bool, now: datetime
) -> Alert:
    """An alert to every subscriber confirmed by now, ready to send. 409 for the same
    alert, word for word in both languages, sent within ``REPEAT_WINDOW``."""
    check_draft(draft)
    # Of two identical sends at the same moment, the second waits for the first and
    # finds it.
    one_at_a_time(session, NEW_ALERT_LOCK)
    repeated = session.scalar(
        select(Alert.public_id)
        .where(
            Alert.created_at >= now - REPEAT_WINDOW,
            Alert.subject == draft.subject,
            Alert.body == draft.body,
            Alert.subject_es.is_not_distinct_from(draft.subject_es),
            Alert.body_es.is_not_distinct_from(draft.body_es),
        )
        .limit(1)
    )
    if repeated is not None:
        raise Problem(
            409,
            "Already sent",
            f"This alert was sent as {repeated} less than an hour ago; change it to send it again.",
        )
    last = session.scalar(select(func.max(AlertSubscriber.id))) or 0
    recipients = session.scalar(select(func.count()).select_from(AlertSubscriber)) or 0
    alert = Alert(
        public_id=public_ids.public_id("AL", 5, 5),
        subject=draft.subject,
        body=draft.body,
        subject_es=draft.subject_es,
        body_es=draft.body_es,
        state="sending",
        tracking=tracking,
        created_by_id=created_by,
        created_at=now,
        last_subscriber_id=last,
        cursor=0,
        recipients=recipients,
        sent=0,
        failed=0,
        uncertain=0,
        opens=0,
    )
    session.add(alert)
    session.flush()
    return alert
