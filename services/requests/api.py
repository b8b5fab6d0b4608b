"""Staff API for service requests, the catalogue and the screen pop: routes that parse,
call the action, and return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.platform.auth import (
    ConfigAdmin,
    RequestEditor,
    RequestFiler,
    RequestReader,
)
from services.platform.context import ContextDep
from services.platform.params import CallSid, PageLimit
from services.requests import actions
from services.requests.schemas import (
    ContactCorrection,
    ContactOut,
    DescriptionReview,
    DuplicateCheck,
    DuplicateList,
    RequestIn,
    RequestList,
    RequestOut,
    RequestSearch,
    ReviewQueue,
    ScreenPopOut,
    ServiceChange,
    ServiceIn,
    ServiceList,
    ServiceOut,
    StatusChangeIn,
)
from services.requests.service import ContactDetails, NewRequest, SearchKey

router = APIRouter(tags=["requests"])
PublicId = Annotated[
    str, Path(min_length=14, max_length=16, pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$")
]


@router.post("/api/requests", status_code=201, response_model=RequestOut)
def file_request(body: RequestIn, staff: RequestFiler, context: ContextDep) -> RequestOut:
    """File a service request, with or without contact details, or anonymously."""
    contact = ContactDetails(**body.contact.model_dump()) if body.contact is not None else None
    new = NewRequest(
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
    return actions.file_request(context, staff.actor, new, body.updates)


@router.post("/api/requests/possible-duplicates", response_model=DuplicateList)
def possible_duplicates(
    body: DuplicateCheck, staff: RequestFiler, context: ContextDep
) -> DuplicateList:
    """Before filing: open requests for the same service near the same place, filed
    recently, so the caller can be added to one instead of filing it twice."""
    return actions.possible_duplicates(context, staff.actor, body)


@router.get("/api/requests/{public_id}/contact", response_model=ContactOut)
def reuse_contact(public_id: PublicId, staff: RequestReader, context: ContextDep) -> ContactOut:
    """The contact details of an earlier request, to fill in a new one for the same
    caller (read from the sealed record, audited)."""
    return actions.reuse_contact(context, staff.actor, public_id)


@router.get("/api/requests/unreviewed", response_model=ReviewQueue)
def unreviewed(staff: RequestEditor, context: ContextDep, limit: PageLimit = 50) -> ReviewQueue:
    """Descriptions nobody has reviewed for the public feed yet, newest first (declared
    before ``/api/requests/{public_id}``, which would take the word for a number)."""
    return actions.unreviewed(context, staff.actor, limit=limit)


@router.get("/api/requests/{public_id}", response_model=RequestOut)
def read_request(public_id: PublicId, staff: RequestReader, context: ContextDep) -> RequestOut:
    """One request with its contact, calls and history."""
    return actions.read_request(context, staff.actor, public_id)


@router.post("/api/requests/search", response_model=RequestList)
def search(body: RequestSearch, staff: RequestReader, context: ContextDep) -> RequestList:
    """A caller's earlier requests by phone, email, name or home address, newest first."""
    return actions.search_requests(context, staff.actor, SearchKey(*body.key()))


@router.post("/api/requests/{public_id}/status", response_model=RequestOut)
def change_status(
    public_id: PublicId, body: StatusChangeIn, staff: RequestEditor, context: ContextDep
) -> RequestOut:
    """Move a request on (open, in progress, closed) with a note."""
    return actions.change_status(
        context, staff.actor, public_id, status=body.status, note=body.note, public=body.public
    )


@router.put("/api/requests/{public_id}/public-description", response_model=RequestOut)
def review_description(
    public_id: PublicId, body: DescriptionReview, staff: RequestEditor, context: ContextDep
) -> RequestOut:
    """Publish the description as reviewed for the public feed (null withdraws it)."""
    return actions.review_description(context, staff.actor, public_id, text=body.text)


@router.patch("/api/requests/{public_id}/contact", response_model=RequestOut)
def correct_contact(
    public_id: PublicId, body: ContactCorrection, staff: RequestEditor, context: ContextDep
) -> RequestOut:
    """Correct or erase a requester's contact details (e.g. on a correction request)."""
    return actions.correct_contact(
        context,
        staff.actor,
        public_id,
        changes=ContactDetails(body.name, body.phone, body.email, body.address),
        clear=frozenset(body.clear),
    )


@router.get("/api/calls/{call_sid}/screen-pop", response_model=ScreenPopOut)
def call_screen_pop(call_sid: CallSid, staff: RequestReader, context: ContextDep) -> ScreenPopOut:
    """For a ringing call: the caller's earlier requests, unless the number is withheld."""
    return actions.screen_pop(context, staff.actor, call_sid)


# -- the catalogue ---------------------------------------------------------------------


@router.get("/api/services", response_model=ServiceList)
def list_services(staff: RequestFiler, context: ContextDep) -> ServiceList:
    """The service catalogue a request is filed against."""
    return ServiceList(items=actions.list_services(context))


@router.post("/api/services", status_code=201, response_model=ServiceOut)
def add_service(body: ServiceIn, staff: ConfigAdmin, context: ContextDep) -> ServiceOut:
    """Add a service to the catalogue."""
    return actions.add_service(context, staff.actor, body)


@router.patch("/api/services/{code}", response_model=ServiceOut)
def change_service(
    code: Annotated[str, Path(max_length=64)],
    body: ServiceChange,
    staff: ConfigAdmin,
    context: ContextDep,
) -> ServiceOut:
    """Edit or retire a service (requests keep the code they were filed with)."""
    return actions.change_service(context, staff.actor, code, body)
