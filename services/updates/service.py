"""Telling callers what happened to their requests, on the channels they consented to.

A subscription holds the consent (channel, address, language, who took it, when, on
which call). A status change or a public note marks the request's subscriptions due;
the sweep then sends each one message saying what changed and the reference number,
never sooner than an hour after the last message (changes in between fold into one).
Texts go through the text outbox (quiet hours, the sender's rate, retries and status
callbacks as appointment texts have); emails through the email outbox. A number that
texted STOP gets nothing; an address unsubscribed by its link gets nothing more about
that request; a suppressed address (bounce, complaint) gets nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.email import service as mail
from services.messaging import service as texts
from services.messaging.service import QuietHours
from services.platform.errors import InvalidField
from services.requests.models import RequestStatusChange, ServiceRequest
from services.updates import templates
from services.updates.models import UpdateSubscription
from storage.crypto import FieldContext, Keyring
from storage.upsert import insert_ignoring_conflicts

CHANNELS = ("sms", "email")
MAILING_LIST = "request-updates"


@dataclass(frozen=True)
class UpdatePolicy:
    city: str
    quiet: QuietHours
    public_url: str
    # At most one message per subscription this often; later changes fold into the next.
    interval: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Queued:
    """What a sweep queued, to hand to the senders once it has committed."""

    texts: list[int]
    emails: list[int]


def _place(subscription: UpdateSubscription) -> FieldContext:
    return FieldContext("update_subscriptions", "to", str(subscription.id))


def address_of(keyring: Keyring, subscription: UpdateSubscription) -> str:
    return keyring.open(subscription.to_sealed, _place(subscription))


def _told_so_far(session: Session, request_id: int) -> int:
    return int(
        session.scalar(
            select(func.max(RequestStatusChange.id)).where(
                RequestStatusChange.request_id == request_id
            )
        )
        or 0
    )


def subscribe(
    session: Session,
    keyring: Keyring,
    request: ServiceRequest,
    *,
    channel: str,
    address: str,
    language: str,
    consent_by: int | None,
    call_sid: str | None,
    source: str,
    now: datetime,
) -> UpdateSubscription:
    """Record a caller's consent to updates on ``request`` by ``channel`` to ``address``
    (E.164 for sms, a case-folded email address), told from now on. Also for callers
    added to an existing request. Consent given again renews a withdrawn one.
    InvalidField for an anonymous request or an unknown channel."""
    if request.anonymous:
        raise InvalidField("updates", "an anonymous request cannot be followed: no contact is kept")
    if channel not in CHANNELS:
        raise InvalidField("channel", "must be sms or email")
    kind = "phone" if channel == "sms" else "email"
    index = keyring.blind_index(kind, address)
    insert_ignoring_conflicts(
        session,
        UpdateSubscription,
        {
            "request_id": request.id,
            "channel": channel,
            "to_sealed": b"",
            "to_index": index,
            "language": "es" if language == "es" else "en",
            "source": source,
            "consent_at": now,
            "consent_by_id": consent_by,
            "consent_call_sid": call_sid,
            "told_through": _told_so_far(session, request.id),
            "messages": 0,
        },
        conflict_columns=["request_id", "channel", "to_index"],
    )
    subscription = session.scalars(
        select(UpdateSubscription).where(
            UpdateSubscription.request_id == request.id,
            UpdateSubscription.channel == channel,
            UpdateSubscription.to_index == index,
        )
    ).one()
    if subscription.to_sealed == b"" or subscription.withdrawn_at is not None:
        subscription.to_sealed = keyring.seal(address, _place(subscription))
        subscription.language = "es" if language == "es" else "en"
        subscription.consent_at, subscription.consent_by_id = now, consent_by
        subscription.consent_call_sid, subscription.source = call_sid, source
        subscription.withdrawn_at = subscription.withdrawn_how = None
        subscription.told_through = _told_so_far(session, request.id)
    session.flush()
    return subscription


def subscriptions_of(session: Session, request_id: int) -> list[UpdateSubscription]:
    return list(
        session.scalars(
            select(UpdateSubscription)
            .where(UpdateSubscription.request_id == request_id)
            .order_by(UpdateSubscription.id)
        )
    )


def note_change(session: Session, request: ServiceRequest, *, now: datetime) -> int:
    """A status change or a public note: the request's live subscriptions become due,
    now or an hour after their last message. Returns how many."""
    live = session.scalars(
        select(UpdateSubscription).where(
            UpdateSubscription.request_id == request.id,
            UpdateSubscription.withdrawn_at.is_(None),
        )
    ).all()
    for subscription in live:
        earliest = now
        if subscription.last_sent_at is not None:
            earliest = max(now, subscription.last_sent_at + timedelta(hours=1))
        if subscription.due_at is None or subscription.due_at > earliest:
            subscription.due_at = earliest
    session.flush()
    return len(live)


def due(session: Session, *, now: datetime, limit: int = 500) -> list[int]:
    return list(
        session.scalars(
            select(UpdateSubscription.id)
            .where(
                UpdateSubscription.due_at <= now,
                UpdateSubscription.withdrawn_at.is_(None),
            )
            .order_by(UpdateSubscription.due_at)
            .limit(limit)
        )
    )


def tell(
    session: Session,
    keyring: Keyring,
    subscription: UpdateSubscription,
    *,
    policy: UpdatePolicy,
    now: datetime,
) -> tuple[int | None, int | None]:
    """Queue the one message a due subscription gets: (text id, email id), either None
    when nothing was queued (nothing new, opted out, suppressed)."""
    if subscription.withdrawn_at is not None or subscription.due_at is None:
        return None, None
    if subscription.last_sent_at is not None and now < subscription.last_sent_at + policy.interval:
        subscription.due_at = subscription.last_sent_at + policy.interval
        return None, None
    request = session.get(ServiceRequest, subscription.request_id)
    assert request is not None  # the subscription goes with its request
    changes = [change for change in request.history if change.id > subscription.told_through]
    subscription.due_at = None
    if not changes:
        return None, None
    previous = session.scalar(
        select(RequestStatusChange.status)
        .where(
            RequestStatusChange.request_id == request.id,
            RequestStatusChange.id <= subscription.told_through,
        )
        .order_by(RequestStatusChange.id.desc())
        .limit(1)
    )
    sentence = templates.update_text(
        subscription.language,
        city=policy.city,
        number=request.public_id,
        status=request.status,
        status_changed=previous != request.status,
        new_note=any(change.public and change.note for change in changes),
    )
    subscription.told_through = changes[-1].id
    subscription.last_sent_at = now
    subscription.messages += 1
    key = f"update:{subscription.id}:{subscription.messages}"
    address = address_of(keyring, subscription)
    if subscription.channel == "sms":
        if texts.is_opted_out(session, keyring, address):
            return None, None
        text_id = texts.queue_text(
            session,
            keyring,
            key=key,
            kind="update",
            to=address,
            body=templates.sms(subscription.language, sentence),
            language=subscription.language,
            appointment_id=None,
            not_before=policy.quiet.release(now),
            now=now,
        )
        return text_id, None
    subject, body = templates.email(
        subscription.language, sentence, number=request.public_id, status=request.status
    )
    token = mail.unsubscribe_token(keyring, MAILING_LIST, subscription.id)
    email_id = mail.queue_email(
        session,
        keyring,
        key=key,
        kind="update",
        to=address,
        subject=subject,
        body=body,
        language=subscription.language,
        unsubscribe_url=f"{policy.public_url}/public/updates/unsubscribe/{token}",
        now=now,
    )
    return None, email_id


def unsubscribe(session: Session, keyring: Keyring, token: str, *, now: datetime) -> bool:
    """Withdraw the consent an unsubscribe link names; False for a link that is not
    genuine (a withdrawn consent stays withdrawn: saying it twice is fine)."""
    subscription_id = mail.unsubscribe_target(keyring, MAILING_LIST, token)
    if subscription_id is None:
        return False
    subscription = session.get(UpdateSubscription, subscription_id)
    if subscription is None:
        return True  # purged with its request: nothing left to stop
    if subscription.withdrawn_at is None:
        subscription.withdrawn_at, subscription.withdrawn_how = now, "unsubscribe"
        subscription.due_at = None
    session.flush()
    return True
