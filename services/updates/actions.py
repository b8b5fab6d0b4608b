"""Updates on requests, one function per use case: consent taken with a request or for
another caller, one-click unsubscribe, and the sweep that tells due subscriptions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.appointments.service import mobile_number
from services.email import actions as email_actions
from services.email import service as mail
from services.messaging import actions as messaging
from services.messaging.sending import Outbound
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField, existing
from services.platform.phones import for_people
from services.requests import service as service_requests
from services.requests.models import ServiceRequest
from services.staff.models import StaffUser
from services.updates import service as updates
from services.updates.models import UpdateSubscription
from services.updates.schemas import AddCallerIn, UpdateConsentOut, UpdatesIn
from storage.crypto import Keyring

CONFIRMATIONS = {
    "sms": "Texts about request {number} will go to {to}. Reply STOP to any of them to stop.",
    "email": "Emails about request {number} will go to {to}. Each has a link to stop them.",
}


def consent_out(
    session: Session,
    keyring: Keyring,
    subscription: UpdateSubscription,
    tz: ZoneInfo,
    region: str,
) -> UpdateConsentOut:
    """A consent as the call taker reads it back: a number as people say it, (302)
    555-0123 rather than +13025550123 (``to`` keeps the stored form)."""
    request = session.get(ServiceRequest, subscription.request_id)
    taker = (
        session.get(StaffUser, subscription.consent_by_id) if subscription.consent_by_id else None
    )
    to = updates.address_of(keyring, subscription)
    return UpdateConsentOut(
        channel=subscription.channel,
        to=to,
        language=subscription.language,
        consent_at=subscription.consent_at.astimezone(tz),
        consent_by=taker.username if taker else None,
        consent_call_sid=subscription.consent_call_sid,
        withdrawn_at=(
            subscription.withdrawn_at.astimezone(tz) if subscription.withdrawn_at else None
        ),
        messages=subscription.messages,
        confirmation=CONFIRMATIONS[subscription.channel].format(
            number=request.public_id if request else "",
            to=for_people(to, region) if subscription.channel == "sms" else to,
        ),
    )


def consents_of(context: AppContext, session: Session, request_id: int) -> list[UpdateConsentOut]:
    """The consents recorded on a request (for its page and its confirmation)."""
    return [
        consent_out(session, context.keyring, subscription, context.city_tz, context.region)
        for subscription in updates.subscriptions_of(session, request_id)
    ]


def _mobile(context: AppContext, number: str, field: str) -> str:
    try:
        return mobile_number(
            number, context.region, line_type=context.part(Outbound).carrier.line_type
        )
    except InvalidField as exc:
        raise InvalidField(field, (exc.detail or "").split(": ", 1)[-1]) from None


def consent_at_filing(
    context: AppContext,
    session: Session,
    actor: Actor,
    request: ServiceRequest,
    wanted: UpdatesIn,
    *,
    call_sid: str | None,
    now: datetime,
) -> int:
    """Record the consent given with a new request, on the channels asked for, to the
    contact's own number and address; InvalidField when the contact lacks them. Run
    inside the filing's unit of work. Returns the number of channels."""
    channels = [name for name in ("sms", "email") if getattr(wanted, name)]
    if not channels:
        return 0
    view = service_requests.contact_view(context.keyring, request)
    for channel in channels:
        if channel == "sms":
            if view is None or not view.phone:
                raise InvalidField("updates.sms", "needs the contact's mobile number")
            address = _mobile(context, view.phone, "updates.sms")
        else:
            if view is None or not view.email:
                raise InvalidField("updates.email", "needs the contact's email address")
            address = view.email
        updates.subscribe(
            session,
            context.keyring,
            request,
            channel=channel,
            address=address,
            language=wanted.language,
            consent_by=actor.user_id,
            call_sid=call_sid,
            source="filed",
            now=now,
        )
    return len(channels)


def add_caller(
    context: AppContext, actor: Actor, public_id: str, body: AddCallerIn
) -> list[UpdateConsentOut]:
    """Another caller about an existing request gets its updates too (consent taken
    by the staff member, now). InvalidField for a number that cannot take texts or an
    address that is not one; 404 for no such request."""
    with unit_of_work(
        context, actor, "request.updates_add", object_type="service_request", object_id=public_id
    ) as work:
        request = existing(service_requests.get_request(work.session, public_id), "service request")
        added = []
        if body.phone:
            added.append(("sms", _mobile(context, body.phone, "phone")))
        if body.email:
            added.append(("email", mail.email_address(body.email)))
        for channel, address in added:
            updates.subscribe(
                work.session,
                context.keyring,
                request,
                channel=channel,
                address=address,
                language=body.language,
                consent_by=actor.user_id,
                call_sid=body.call_sid,
                source="added",
                now=work.now,
            )
        work.note(channels=[channel for channel, _ in added])
        return consents_of(context, work.session, request.id)


def note_change(context: AppContext, session: Session, request: ServiceRequest) -> int:
    """Inside a status change's unit of work: the request's subscribers become due."""
    return updates.note_change(session, request, now=context.clock.now())


def after_change(context: AppContext) -> None:
    """Once a change has committed: tell those due now without waiting for the sweep."""
    context.jobs.enqueue("updates.tell", {})


def tell_due(context: AppContext, subscription_ids: list[int] | None = None) -> int:
    """Queue one message for each due subscription (all, or those named), then hand
    them to the senders. Returns how many were queued."""
    now = context.clock.now()
    policy = context.part(updates.UpdatePolicy)
    text_ids: list[int] = []
    email_ids: list[int] = []
    with context.db.begin() as session:
        ids = updates.due(session, now=now)
        if subscription_ids is not None:
            ids = [found for found in ids if found in set(subscription_ids)]
        rows = session.scalars(
            select(UpdateSubscription)
            .where(UpdateSubscription.id.in_(ids))
            .with_for_update(skip_locked=True)
        ).all()
        for subscription in rows:
            text_id, email_id = updates.tell(
                session, context.keyring, subscription, policy=policy, now=now
            )
            text_ids += [text_id] if text_id else []
            email_ids += [email_id] if email_id else []
    messaging.send_due(context, text_ids)
    email_actions.send_queued(context, email_ids)
    return len(text_ids) + len(email_ids)


def unsubscribe(context: AppContext, token: str) -> bool:
    """One click in an update email: no more updates on that request to that address.
    No sign-in; audited without the address. False for a link that is not genuine."""
    actor = Actor(None, None, None, None)
    with unit_of_work(
        context, actor, "updates.unsubscribe", object_type="update_subscription"
    ) as work:
        done = updates.unsubscribe(work.session, context.keyring, token, now=work.now)
        work.note(genuine=done)
        return done
