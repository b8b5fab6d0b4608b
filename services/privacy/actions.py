"""Access-and-correction requests, one function per use case of the privacy officer:
each opens its unit of work, does the work through the service, and leaves its audit
entry (also when the request is not found or the step is refused). The staff API calls
these; none of it opens a transaction or writes an audit entry itself.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField, Problem, existing
from services.platform.personal_data import Registry
from services.platform.resources import resource
from services.privacy import letters
from services.privacy import service as privacy
from services.privacy.calendar import BusinessCalendar
from services.privacy.holdings import Holdings, find_holdings
from services.privacy.models import PrivacyRequest
from services.privacy.schemas import CorrectionOut, DeadlineOut, PrivacyRequestOut, RequesterIn
from services.requests import service as service_requests
from services.requests.service import ContactDetails

PRIVACY_REQUEST = "privacy_request"
CONTACT_FIELDS = ("name", "phone", "email", "address")
Letter = Literal["acknowledgement", "grant", "denial", "amendment"]
# A letter that tells of a decision needs the request to have reached it.
LETTER_NEEDS = {"acknowledgement": "acknowledged", "grant": "granted", "denial": "denied"}


def _today(context: AppContext, now: datetime) -> date:
    return privacy.local_today(now, context.city_tz)


def _out(
    context: AppContext, request: PrivacyRequest, *, today: date, with_requester: bool = False
) -> PrivacyRequestOut:
    found = privacy.deadline(request, today=today, calendar=context.part(BusinessCalendar))
    requester = None
    if with_requester:
        details = privacy.requester_of(context.keyring, request)
        requester = RequesterIn.model_validate(asdict(details))
    return resource(
        PrivacyRequestOut,
        request,
        id=request.public_id,
        kinds=list(request.kinds),
        next_deadline=DeadlineOut(**asdict(found)) if found else None,
        answered_on=privacy.answered_on(request),
        answered_late=privacy.answered_late(request, today=today),
        requester=requester,
    )


def _holdings(session: Session, context: AppContext, request: PrivacyRequest) -> Holdings:
    return find_holdings(
        session,
        context.keyring,
        privacy.requester_of(context.keyring, request),
        region=context.region,
        tz=context.city_tz,
        registry=context.part(Registry),
    )


def record_request(
    context: AppContext, actor: Actor, new: privacy.NewPrivacyRequest
) -> PrivacyRequestOut:
    """Record a request as received; the answer is due in 5 business days."""
    with unit_of_work(
        context, actor, "privacy.request_record", object_type=PRIVACY_REQUEST
    ) as work:
        today = _today(context, work.now)
        request = privacy.record(
            work.session,
            context.keyring,
            new,
            by=actor.user_id,
            now=work.now,
            today=today,
            calendar=context.part(BusinessCalendar),
            region=context.region,
        )
        work.object_id = request.public_id
        return _out(context, request, today=today, with_requester=True)


def list_requests(
    context: AppContext, actor: Actor, *, which: Literal["open", "all"] = "open"
) -> list[PrivacyRequestOut]:
    """The due list (open requests, soonest deadline first), or every request."""
    with unit_of_work(context, actor, "privacy.request_list", object_type=PRIVACY_REQUEST) as work:
        today = _today(context, work.now)
        if which == "open":
            found = privacy.open_requests(work.session)
        else:
            found = privacy.all_requests(work.session)
        out = [_out(context, request, today=today) for request in found]
        if which == "open":
            out.sort(key=lambda r: (r.next_deadline.due if r.next_deadline else date.max, r.id))
        work.note(results=len(out))
        return out


def read_request(context: AppContext, actor: Actor, public_id: str) -> PrivacyRequestOut:
    """One request, with the requester's details."""
    with unit_of_work(
        context, actor, "privacy.request_read", object_type=PRIVACY_REQUEST, object_id=public_id
    ) as work:
        request = privacy.get(work.session, public_id)
        return _out(context, request, today=_today(context, work.now), with_requester=True)


def acknowledge(
    context: AppContext, actor: Actor, public_id: str, *, decision_by: date | None
) -> PrivacyRequestOut:
    """Acknowledge in writing with the decision date (default and latest: 30 days on)."""
    with unit_of_work(
        context,
        actor,
        "privacy.request_acknowledge",
        object_type=PRIVACY_REQUEST,
        object_id=public_id,
    ) as work:
        today = _today(context, work.now)
        request = privacy.acknowledge(
            privacy.get(work.session, public_id), on=today, decision_by=decision_by, now=work.now
        )
        return _out(context, request, today=today)


def decide(
    context: AppContext,
    actor: Actor,
    public_id: str,
    *,
    decision: Literal["granted", "denied"],
    reason: str | None,
) -> PrivacyRequestOut:
    """Grant, or deny with reasons in writing."""
    with unit_of_work(
        context, actor, "privacy.request_decide", object_type=PRIVACY_REQUEST, object_id=public_id
    ) as work:
        work.note(decision=decision)
        today = _today(context, work.now)
        request = privacy.decide(
            privacy.get(work.session, public_id),
            granted=decision == "granted",
            reason=reason,
            on=today,
            now=work.now,
        )
        return _out(context, request, today=today)


def export_json(context: AppContext, actor: Actor, public_id: str) -> dict[str, Any]:
    """Everything held about the person, as a JSON document."""
    with unit_of_work(
        context, actor, "privacy.export", object_type=PRIVACY_REQUEST, object_id=public_id
    ) as work:
        work.note(format="json")
        holdings = _holdings(work.session, context, privacy.get(work.session, public_id))
        work.note(**holdings.counts())
        return {"privacy_request": public_id, **holdings.as_dict()}


def export_html(context: AppContext, actor: Actor, public_id: str) -> str:
    """Everything held about the person, as a readable, printable letter (HTML)."""
    with unit_of_work(
        context, actor, "privacy.export", object_type=PRIVACY_REQUEST, object_id=public_id
    ) as work:
        work.note(format="html")
        request = privacy.get(work.session, public_id)
        holdings = _holdings(work.session, context, request)
        work.note(**holdings.counts())
        return letters.render_export(
            city=context.city.name,
            request=request,
            requester=privacy.requester_of(context.keyring, request),
            today=_today(context, work.now),
            holdings=holdings,
        )


def letter(context: AppContext, actor: Actor, public_id: str, kind: Letter) -> str:
    """A letter to the person (HTML): acknowledgement, grant, denial with reasons, or
    their right to ask for amendment. Refused (409) before the request reached it."""
    with unit_of_work(
        context, actor, "privacy.letter", object_type=PRIVACY_REQUEST, object_id=public_id
    ) as work:
        work.note(letter=kind)
        request = privacy.get(work.session, public_id)
        needed = LETTER_NEEDS.get(kind)
        if needed is not None and request.status != needed:
            raise Problem(409, "Conflict", f"A {kind} letter needs a request that is {needed}.")
        holdings = _holdings(work.session, context, request) if kind == "grant" else None
        return letters.render_letter(
            kind,
            city=context.city.name,
            request=request,
            requester=privacy.requester_of(context.keyring, request),
            today=_today(context, work.now),
            holdings=holdings,
        )


def correct_contact(
    context: AppContext,
    actor: Actor,
    public_id: str,
    *,
    request_id: str,
    changes: ContactDetails,
    clear: frozenset[str] = frozenset(),
) -> CorrectionOut:
    """Correct the person's contact details on one of their service requests, through
    the requests service; only a request found for this person may be corrected.

    Audited as the requests feature audits a contact correction ("request.contact_correct"
    on the service request), naming the privacy request and every field touched. Not
    ``services.requests.actions.correct_contact`` itself: the privacy request is checked
    in the same transaction, and the entry keeps its own detail keys.
    """
    fields = sorted({name for name in CONTACT_FIELDS if getattr(changes, name)} | set(clear))
    with unit_of_work(
        context,
        actor,
        "request.contact_correct",
        object_type="service_request",
        object_id=request_id,
    ) as work:
        work.note(privacy_request=public_id, fields=fields)
        named = service_requests.get_request(work.session, request_id)
        if named is not None and named.anonymous:
            # As the requests feature does: an anonymous request is not named beside
            # who acted and when (it can hold no contact to correct anyway).
            work.object_id = None
            work.note(anonymous=True)
        request = privacy.get(work.session, public_id)
        if "correction" not in request.kinds:
            raise Problem(409, "Conflict", "This request did not ask for a correction.")
        if request.status not in (*privacy.OPEN, "granted"):
            raise Problem(409, "Conflict", f"This request is {request.status}.")
        holdings = _holdings(work.session, context, request)
        if request_id not in {item["id"] for item in holdings.service_requests}:
            raise InvalidField("request_id", "is not among this person's requests")
        service_request = existing(
            service_requests.get_request(work.session, request_id), "service request"
        )
        service_requests.correct_contact(
            work.session,
            context.keyring,
            service_request,
            changes=changes,
            clear=clear,
            now=work.now,
            region=context.region,
        )
        request.updated_at = work.now
        return CorrectionOut(request_id=request_id, corrected=fields)
