"""Service requests, one function per use case: each opens its unit of work, does the
work through the service, and leaves its audit entry (also when the answer is "not
found" or a refusal). The staff API, the console, Open311 and the command line call
these; none of them opens a transaction or writes an audit entry for a request itself.
"""

from __future__ import annotations

from sqlalchemy.orm import object_session

from services.calls.service import get_call, party_number
from services.platform.actions import Work, unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField, NotFound, Problem, existing
from services.requests import catalogue
from services.requests import service as service_requests
from services.requests.models import ServiceRequest, ServiceType
from services.requests.schemas import (
    ContactOut,
    DuplicateCheck,
    DuplicateList,
    RequestBrief,
    RequestList,
    RequestOut,
    ReviewQueue,
    RingingCallOut,
    ScreenPopOut,
    ServiceChange,
    ServiceIn,
    ServiceOut,
)
from services.requests.service import ContactDetails, NewRequest, ScreenPop, SearchKey
from services.requests.text import canonical_address
from services.updates import actions as update_actions
from services.updates.schemas import UpdatesIn

CONTACT_FIELDS = ("name", "phone", "email", "address")


def _out(context: AppContext, request: ServiceRequest) -> RequestOut:
    out = RequestOut.of(request, context.keyring, context.city_tz)
    session = object_session(request)
    if session is not None and not request.anonymous:
        out.updates = update_actions.consents_of(context, session, request.id)
    return out


def _found(work: Work, public_id: str, *, lock: bool = False) -> ServiceRequest:
    """The request, or NotFound. An anonymous request is left unnamed in the entry: its
    number beside this agent at this minute would tie it to the call it came from,
    though the request itself keeps its times to the hour and no agent."""
    request = existing(
        service_requests.get_request(work.session, public_id, lock=lock), "service request"
    )
    if request.anonymous:
        work.object_id = None
        work.note(anonymous=True)
    return request


def file_request(
    context: AppContext, actor: Actor, new: NewRequest, updates: UpdatesIn | None = None
) -> RequestOut:
    """File a request, with or without contact details, or anonymously; with
    ``updates``, the caller's consent to be told of changes (InvalidField when the
    contact lacks the number or address a channel needs, or the request is anonymous)."""
    with unit_of_work(context, actor, "request.create", object_type="service_request") as work:
        request = service_requests.create_request(
            work.session,
            context.keyring,
            new,
            filed_by=actor.user_id,
            now=work.now,
            region=context.region,
            duplicates=context.part(service_requests.DuplicatePolicy),
        )
        # Naming an anonymous request here would tie it to this agent at this minute.
        work.object_id = None if request.anonymous else request.public_id
        consented = 0
        if updates is not None and (updates.sms or updates.email):
            if request.anonymous:
                raise InvalidField("updates", "an anonymous request cannot be followed")
            consented = update_actions.consent_at_filing(
                context, work.session, actor, request, updates, call_sid=new.call_sid, now=work.now
            )
        work.note(
            anonymous=request.anonymous,
            with_contact=request.contact is not None,
            update_channels=consented,
            possible_duplicates=len(request.possible_duplicates),
            channel=request.channel,
        )
        return _out(context, request)


def read_request(context: AppContext, actor: Actor, public_id: str) -> RequestOut:
    """One request with its contact, calls and history."""
    with unit_of_work(
        context, actor, "request.view", object_type="service_request", object_id=public_id
    ) as work:
        return _out(context, _found(work, public_id))


def search_requests(context: AppContext, actor: Actor, key: SearchKey) -> RequestList:
    """A caller's earlier requests by phone, email, name or home address, newest first.
    The search is audited with a keyed hash of the term, never the term."""
    with unit_of_work(context, actor, "requests.search", object_type="service_request") as work:
        term = service_requests.normalised_term(key, context.region)
        work.note(key=key.kind, term_hash=context.keyring.keyed_hash("audit-search", term))
        found = service_requests.search_requests(
            work.session, context.keyring, key, region=context.region
        )
        work.note(results=len(found))
        return RequestList(items=[_out(context, request) for request in found])


def change_status(
    context: AppContext,
    actor: Actor,
    public_id: str,
    *,
    status: str,
    note: str | None,
    public: bool,
) -> RequestOut:
    """Move a request on (open, in progress, closed) with a note."""
    with unit_of_work(
        context, actor, "request.status", object_type="service_request", object_id=public_id
    ) as work:
        request = _found(work, public_id, lock=True)
        before = request.status
        service_requests.change_status(
            work.session,
            request,
            status=status,
            note=note,
            public=public,
            changed_by=actor.user_id,
            now=work.now,
            region=context.region,
        )
        due = 0
        if not request.anonymous:  # its history shows the status by the hour only
            work.note(status=status, public_note=public and bool(note))
            if status != before or (public and note):
                due = update_actions.note_change(context, work.session, request)
                work.note(updates_due=due)
        result = _out(context, request)
    if due:
        update_actions.after_change(context)
    return result


def review_description(
    context: AppContext, actor: Actor, public_id: str, *, text: str | None
) -> RequestOut:
    """Publish what the public feed may show of a request's description (staff read it
    and approved or rewrote it), or withdraw it with None. The feed still filters it."""
    with unit_of_work(
        context, actor, "request.publish", object_type="service_request", object_id=public_id
    ) as work:
        request = _found(work, public_id, lock=True)
        service_requests.review_description(work.session, request, text=text, now=work.now)
        work.note(published=text is not None and bool(text.strip()))
        return _out(context, request)


def unreviewed(context: AppContext, actor: Actor, *, limit: int) -> ReviewQueue:
    """Descriptions waiting to be reviewed for the public feed (PUBLIC_TEXT=reviewed),
    newest first. Audited with the count only: no request is named."""
    with unit_of_work(context, actor, "requests.unreviewed", object_type="service_request") as work:
        found = service_requests.unreviewed(work.session, limit=limit)
        work.note(results=len(found))
        return ReviewQueue(items=[_out(context, request) for request in found])


def correct_contact(
    context: AppContext,
    actor: Actor,
    public_id: str,
    *,
    changes: ContactDetails,
    clear: frozenset[str] = frozenset(),
) -> RequestOut:
    """Correct or erase a requester's contact details."""
    with unit_of_work(
        context,
        actor,
        "request.contact_correct",
        object_type="service_request",
        object_id=public_id,
    ) as work:
        request = _found(work, public_id, lock=True)
        service_requests.correct_contact(
            work.session,
            context.keyring,
            request,
            changes=changes,
            clear=clear,
            now=work.now,
            region=context.region,
        )
        work.note(
            fields=sorted(name for name in CONTACT_FIELDS if getattr(changes, name)),
            cleared=sorted(clear),
        )
        return _out(context, request)


def _screen_pop(context: AppContext, work: Work, call_sid: str) -> ScreenPop:
    pop = service_requests.screen_pop(
        work.session, context.keyring, call_sid, region=context.region
    )
    if pop is None:
        raise NotFound("call")
    work.note(results=len(pop.requests))
    return pop


def screen_pop(context: AppContext, actor: Actor, call_sid: str) -> ScreenPopOut:
    """For a ringing call: the caller's earlier requests, unless the number is withheld."""
    with unit_of_work(
        context, actor, "call.screen_pop", object_type="call", object_id=call_sid
    ) as work:
        pop = _screen_pop(context, work, call_sid)
        return ScreenPopOut(
            call_sid=call_sid,
            caller_withheld=pop.withheld,
            items=[_out(context, request) for request in pop.requests],
        )


def pop_ringing_call(context: AppContext, actor: Actor, call_sid: str) -> RingingCallOut:
    """The console's screen pop of a call ringing on the agent's extension: the call, its
    caller's number and earlier requests unless the number is withheld. Audited as the
    API's screen pop is, noting that the console showed it."""
    with unit_of_work(
        context, actor, "call.screen_pop", object_type="call", object_id=call_sid
    ) as work:
        work.note(via="console")
        pop = _screen_pop(context, work, call_sid)
        call = get_call(work.session, call_sid)
        assert call is not None  # the screen pop found it in this transaction
        return RingingCallOut(
            call_sid=call_sid,
            caller_withheld=pop.withheld,
            items=[_out(context, request) for request in pop.requests],
            extension=call.extension,
            started_at=call.started_at.astimezone(context.city_tz),
            from_number=None if pop.withheld else party_number(context.keyring, call, "from"),
        )


def possible_duplicates(context: AppContext, actor: Actor, check: DuplicateCheck) -> DuplicateList:
    """Before filing: open requests for the same service near the same place within the
    duplicate window, as filing would flag them, newest first. Audited with the count."""
    with unit_of_work(context, actor, "requests.duplicates", object_type="service_request") as work:
        if (check.lat is None) != (check.long is None):
            raise InvalidField("long" if check.long is None else "lat", "is needed with the other")
        address = (check.address or "").strip()
        found = service_requests.find_possible_duplicates(
            work.session,
            service_code=check.service_code,
            address_key=canonical_address(address) if address else None,
            point=(check.lat, check.long)
            if check.lat is not None and check.long is not None
            else None,
            now=work.now,
            policy=context.part(service_requests.DuplicatePolicy),
        )
        work.note(results=len(found))
        names = {service.code: service.name for service in catalogue.list_services(work.session)}
        items = []
        for public_id in found:
            request = service_requests.get_request(work.session, public_id)
            if request is None:
                continue
            items.append(
                RequestBrief(
                    id=request.public_id,
                    service_code=request.service_code,
                    service_name=names.get(request.service_code, request.service_code),
                    status=request.status,
                    address=request.address,
                    created_at=request.created_at.astimezone(context.city_tz),
                )
            )
        return DuplicateList(items=items)


def reuse_contact(context: AppContext, actor: Actor, public_id: str) -> ContactOut:
    """The contact details of a caller's earlier request, read from its sealed record to
    fill in a new one (one click instead of retyping them). Audited as a read of the
    request's contact; 409 for a request that keeps none."""
    with unit_of_work(
        context, actor, "request.contact_reuse", object_type="service_request", object_id=public_id
    ) as work:
        request = _found(work, public_id)
        view = service_requests.contact_view(context.keyring, request)
        if request.anonymous or view is None:
            raise Problem(409, "Conflict", "This request keeps no contact details.")
        work.note(fields=sorted(name for name in CONTACT_FIELDS if getattr(view, name)))
        return ContactOut.of(view)


# -- the catalogue ---------------------------------------------------------------------


def list_services(context: AppContext, *, include_inactive: bool = False) -> list[ServiceOut]:
    """The service catalogue (public information: not audited)."""
    with context.db() as session:
        return [
            ServiceOut.model_validate(service)
            for service in catalogue.list_services(session, include_inactive=include_inactive)
        ]


def add_service(context: AppContext, actor: Actor, body: ServiceIn) -> ServiceOut:
    """Add a service to the catalogue."""
    with unit_of_work(
        context, actor, "config.service_add", object_type="service_type", object_id=body.code
    ) as work:
        if catalogue.get_service(work.session, body.code) is not None:
            raise InvalidField("code", "is already in the catalogue")
        service = ServiceType(
            **body.model_dump(exclude={"keywords"}), keywords=",".join(body.keywords)
        )
        service.changed_at = work.now
        work.session.add(service)
        work.session.flush()
        return ServiceOut.model_validate(service)


def change_service(context: AppContext, actor: Actor, code: str, body: ServiceChange) -> ServiceOut:
    """Edit or retire a service (requests keep the code they were filed with)."""
    with unit_of_work(
        context, actor, "config.service_change", object_type="service_type", object_id=code
    ) as work:
        service = existing(catalogue.get_service(work.session, code), "service")
        changes = body.model_dump(exclude_none=True)
        if "keywords" in changes:
            changes["keywords"] = ",".join(changes["keywords"])
        for name, value in changes.items():
            setattr(service, name, value)
        service.changed_at = work.now
        work.note(fields=sorted(changes))
        return ServiceOut.model_validate(service)
