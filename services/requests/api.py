"""Staff API for service requests, the catalogue and the screen pop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import AppContext, ContextDep
from services.platform.errors import InvalidField, NotFound
from services.requests import catalogue
from services.requests import service as requests
from services.requests.models import ServiceRequest, ServiceType
from services.requests.schemas import (
    ContactCorrection,
    RequestIn,
    RequestList,
    RequestOut,
    RequestSearch,
    ScreenPopOut,
    ServiceChange,
    ServiceIn,
    ServiceList,
    ServiceOut,
    StatusChangeIn,
)

router = APIRouter(tags=["requests"])
PublicId = Annotated[
    str, Path(min_length=14, max_length=16, pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
]
CallSid = Annotated[str, Path(pattern=r"^CA[0-9a-fA-F]{32}$")]


def duplicate_policy(context: AppContext) -> requests.DuplicatePolicy:
    return context.part(requests.DuplicatePolicy)


def _out(context: AppContext, request: ServiceRequest) -> RequestOut:
    return RequestOut.of(request, context.keyring, context.city_tz)


@router.post("/api/requests", status_code=201, response_model=RequestOut)
def file_request(
    body: RequestIn,
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_CREATE))],
    context: ContextDep,
) -> RequestOut:
    """File a service request, with or without contact details, or anonymously."""
    now = context.clock.now()
    contact = (
        requests.ContactDetails(**body.contact.model_dump()) if body.contact is not None else None
    )
    new = requests.NewRequest(
        service_code=body.service_code,
        description=body.description or "",
        address=body.address,
        lat=body.lat,
        long=body.long,
        call_sid=body.call_sid,
        anonymous=body.anonymous,
        contact=contact,
        channel="phone",
    )
    with context.db.begin() as session:
        request = requests.create_request(
            session,
            context.keyring,
            new,
            filed_by=staff.user_id,
            now=now,
            region=context.region,
            duplicates=duplicate_policy(context),
        )
        audit.record(
            session,
            actor=staff.actor,
            action="request.create",
            at=now,
            object_type="service_request",
            # Naming an anonymous request here would tie it to this agent at this minute.
            object_id=None if request.anonymous else request.public_id,
            detail={
                "anonymous": request.anonymous,
                "with_contact": request.contact is not None,
                "possible_duplicates": len(request.possible_duplicates),
            },
        )
        return _out(context, request)


@router.get("/api/requests/{public_id}", response_model=RequestOut)
def read_request(
    public_id: PublicId,
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_READ))],
    context: ContextDep,
) -> RequestOut:
    """One request with its contact, calls and history."""
    with context.db.begin() as session:
        request = requests.get_request(session, public_id)
        audit.record(
            session,
            actor=staff.actor,
            action="request.view",
            at=context.clock.now(),
            outcome="ok" if request is not None else "not_found",
            object_type="service_request",
            object_id=public_id,
        )
        found = None if request is None else _out(context, request)
    if found is None:
        raise NotFound("service request")
    return found


@router.post("/api/requests/search", response_model=RequestList)
def search(
    body: RequestSearch,
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_READ))],
    context: ContextDep,
) -> RequestList:
    """A caller's earlier requests by phone, email, name or home address, newest first."""
    kind, value = body.key()
    key = requests.SearchKey(kind, value)
    region = context.region
    with context.db.begin() as session:
        found = requests.search_requests(session, context.keyring, key, region=region)
        audit.record(
            session,
            actor=staff.actor,
            action="requests.search",
            at=context.clock.now(),
            object_type="service_request",
            detail={
                "key": kind,
                "term_hash": context.keyring.keyed_hash(
                    "audit-search", requests.normalised_term(key, region)
                ),
                "results": len(found),
            },
        )
        return RequestList(items=[_out(context, request) for request in found])


@router.post("/api/requests/{public_id}/status", response_model=RequestOut)
def change_status(
    public_id: PublicId,
    body: StatusChangeIn,
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_UPDATE))],
    context: ContextDep,
) -> RequestOut:
    """Move a request on (open, in progress, closed) with a note."""
    now = context.clock.now()
    with context.db.begin() as session:
        request = requests.get_request(session, public_id)
        if request is None:
            raise NotFound("service request")
        requests.change_status(
            session,
            request,
            status=body.status,
            note=body.note,
            public=body.public,
            changed_by=staff.user_id,
            now=now,
            region=context.region,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="request.status",
            at=now,
            object_type="service_request",
            object_id=request.public_id,
            detail={"status": body.status, "public_note": body.public and bool(body.note)},
        )
        return _out(context, request)


@router.patch("/api/requests/{public_id}/contact", response_model=RequestOut)
def correct_contact(
    public_id: PublicId,
    body: ContactCorrection,
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_UPDATE))],
    context: ContextDep,
) -> RequestOut:
    """Correct or erase a requester's contact details (e.g. on a correction request)."""
    now = context.clock.now()
    changes = requests.ContactDetails(body.name, body.phone, body.email, body.address)
    with context.db.begin() as session:
        request = requests.get_request(session, public_id)
        if request is None:
            raise NotFound("service request")
        requests.correct_contact(
            session,
            context.keyring,
            request,
            changes=changes,
            clear=frozenset(body.clear),
            now=now,
            region=context.region,
        )
        audit.record(
            session,
            actor=staff.actor,
            action="request.contact_correct",
            at=now,
            object_type="service_request",
            object_id=request.public_id,
            detail={
                "fields": sorted(
                    k for k in ("name", "phone", "email", "address") if getattr(body, k)
                ),
                "cleared": sorted(body.clear),
            },
        )
        return _out(context, request)


@router.get("/api/calls/{call_sid}/screen-pop", response_model=ScreenPopOut)
def call_screen_pop(
    call_sid: CallSid,
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_READ))],
    context: ContextDep,
) -> ScreenPopOut:
    """For a ringing call: the caller's earlier requests, unless the number is withheld."""
    with context.db.begin() as session:
        pop = requests.screen_pop(session, context.keyring, call_sid, region=context.region)
        audit.record(
            session,
            actor=staff.actor,
            action="call.screen_pop",
            at=context.clock.now(),
            outcome="ok" if pop is not None else "not_found",
            object_type="call",
            object_id=call_sid,
            detail={"results": 0 if pop is None else len(pop.requests)},
        )
        if pop is None:
            raise NotFound("call")
        return ScreenPopOut(
            call_sid=call_sid,
            caller_withheld=pop.withheld,
            items=[_out(context, request) for request in pop.requests],
        )


# -- the catalogue ---------------------------------------------------------------------


def _service_out(service: ServiceType) -> ServiceOut:
    return ServiceOut(
        code=service.code,
        name=service.name,
        description=service.description,
        department=service.department,
        group=service.group,
        keywords=[word for word in service.keywords.split(",") if word],
        active=service.active,
    )


@router.get("/api/services", response_model=ServiceList)
def list_services(
    staff: Annotated[Staff, Depends(require(Permission.REQUESTS_CREATE))],
    context: ContextDep,
) -> ServiceList:
    """The service catalogue a request is filed against."""
    with context.db() as session:
        return ServiceList(items=[_service_out(s) for s in catalogue.list_services(session)])


@router.post("/api/services", status_code=201, response_model=ServiceOut)
def add_service(
    body: ServiceIn,
    staff: Annotated[Staff, Depends(require(Permission.CONFIG_MANAGE))],
    context: ContextDep,
) -> ServiceOut:
    """Add a service to the catalogue."""
    with context.db.begin() as session:
        if catalogue.get_service(session, body.code) is not None:
            raise InvalidField("code", "is already in the catalogue")
        service = ServiceType(
            **body.model_dump(exclude={"keywords"}), keywords=",".join(body.keywords)
        )
        session.add(service)
        session.flush()
        audit.record(
            session,
            actor=staff.actor,
            action="config.service_add",
            at=context.clock.now(),
            object_type="service_type",
            object_id=body.code,
        )
        return _service_out(service)


@router.patch("/api/services/{code}", response_model=ServiceOut)
def change_service(
    code: Annotated[str, Path(max_length=64)],
    body: ServiceChange,
    staff: Annotated[Staff, Depends(require(Permission.CONFIG_MANAGE))],
    context: ContextDep,
) -> ServiceOut:
    """Edit or retire a service (requests keep the code they were filed with)."""
    with context.db.begin() as session:
        service = catalogue.get_service(session, code)
        if service is None:
            raise NotFound("service")
        changes = body.model_dump(exclude_none=True)
        if "keywords" in changes:
            changes["keywords"] = ",".join(changes["keywords"])
        for name, value in changes.items():
            setattr(service, name, value)
        audit.record(
            session,
            actor=staff.actor,
            action="config.service_change",
            at=context.clock.now(),
            object_type="service_type",
            object_id=code,
            detail={"fields": sorted(changes)},
        )
        return _service_out(service)
