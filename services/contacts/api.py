"""Staff API for contacts: routes that parse, call one action, and return its answer."""

from __future__ import annotations

from fastapi import APIRouter

from services.contacts import actions
from services.contacts.schemas import (
    CallbackIn,
    CallbackOut,
    CallerOut,
    ContactId,
    ContactList,
    ContactLogIn,
    ContactRecord,
    ContactSearch,
    WrapUpIn,
)
from services.platform.auth import (
    CallbackPlacer,
    ContactCreator,
    ContactReader,
    WrapperUp,
)
from services.platform.context import ContextDep
from services.platform.params import CallSid

router = APIRouter(prefix="/api/contacts", tags=["contacts"])


@router.post("", status_code=201, response_model=ContactRecord)
def log_contact(body: ContactLogIn, staff: ContactCreator, context: ContextDep) -> ContactRecord:
    """Log a contact by hand (email, walk-in, ...); calls, texts and Open311 submissions
    log their own."""
    return actions.log_contact(context, staff.actor, body)


@router.post("/search", response_model=ContactList)
def search_contacts(body: ContactSearch, staff: ContactReader, context: ContextDep) -> ContactList:
    """Contacts newest first, by ``call_sid``, ``agent``, ``since`` and ``until``."""
    return actions.search_contacts(context, staff.actor, body)


@router.get("/caller/{call_sid}", response_model=CallerOut)
def caller_on_call(call_sid: CallSid, staff: ContactReader, context: ContextDep) -> CallerOut:
    """The caller on a call: the number as people write it (or that it was withheld),
    the call's own contact once answered, and the caller's earlier requests, contacts,
    appointments and texts, newest first (the call taker's workspace)."""
    return actions.caller_on_call(context, staff.actor, call_sid)


@router.get("/{contact_id}", response_model=ContactRecord)
def read_contact(contact_id: ContactId, staff: ContactReader, context: ContextDep) -> ContactRecord:
    """One contact."""
    return actions.read_contact(context, staff.actor, contact_id)


@router.post("/{contact_id}/wrap-up", response_model=ContactRecord)
def wrap_up(
    contact_id: ContactId, body: WrapUpIn, staff: WrapperUp, context: ContextDep
) -> ContactRecord:
    """Wrap the contact up: topics, resolution, requests filed, transfer, notes."""
    return actions.wrap_up_contact(context, staff.actor, contact_id, body)


callbacks_router = APIRouter(prefix="/api/callbacks", tags=["contacts"])


@callbacks_router.post("", status_code=201, response_model=CallbackOut)
def place_callback(body: CallbackIn, staff: CallbackPlacer, context: ContextDep) -> CallbackOut:
    """Call a caller back about a request or after a contact: your destination rings
    first, then the caller's number on record (never sent), shown the 311 number."""
    return actions.place_callback(context, staff.actor, body)
