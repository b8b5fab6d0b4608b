"""Staff API for access-and-correction requests (the privacy officer): routes that
parse, call the action, and return its answer."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from services.platform.auth import PrivacyOfficer
from services.platform.context import ContextDep
from services.privacy import actions, letters
from services.privacy import service as privacy
from services.privacy.schemas import (
    AcknowledgeIn,
    CorrectionIn,
    CorrectionOut,
    DecideIn,
    NewRequestIn,
    PrivacyRequestOut,
)
from services.requests.service import ContactDetails

router = APIRouter(prefix="/api/privacy/requests", tags=["privacy"])

PublicId = Annotated[str, Path(max_length=16, pattern=r"^PR-[0-9A-Z]{8}$")]


def _html(text: str) -> HTMLResponse:
    return HTMLResponse(text, headers={"content-security-policy": letters.CONTENT_SECURITY_POLICY})


@router.post("", status_code=201, response_model=PrivacyRequestOut)
def record_request(
    body: NewRequestIn, staff: PrivacyOfficer, context: ContextDep
) -> PrivacyRequestOut:
    """Record a request as received; the answer is due in 5 business days."""
    new = privacy.NewPrivacyRequest(
        received_on=body.received_on,
        channel=body.channel,
        kinds=tuple(body.kinds),
        identity_evidence=body.identity_evidence,
        requester=privacy.Requester(**body.requester.model_dump()),
    )
    return actions.record_request(context, staff.actor, new)


@router.get("", response_model=list[PrivacyRequestOut])
def list_requests(
    staff: PrivacyOfficer,
    context: ContextDep,
    which: Annotated[Literal["open", "all"], Query(description="open: the due list")] = "open",
) -> list[PrivacyRequestOut]:
    """The due list (open requests, soonest deadline first, overdue ones flagged), or all."""
    return actions.list_requests(context, staff.actor, which=which)


@router.get("/{public_id}", response_model=PrivacyRequestOut)
def read_request(
    public_id: PublicId, staff: PrivacyOfficer, context: ContextDep
) -> PrivacyRequestOut:
    """One request, with the requester's details."""
    return actions.read_request(context, staff.actor, public_id)


@router.post("/{public_id}/acknowledge", response_model=PrivacyRequestOut)
def acknowledge(
    public_id: PublicId, body: AcknowledgeIn, staff: PrivacyOfficer, context: ContextDep
) -> PrivacyRequestOut:
    """Acknowledge in writing with the decision date (default and latest: 30 days on)."""
    return actions.acknowledge(context, staff.actor, public_id, decision_by=body.decision_by)


@router.post("/{public_id}/decide", response_model=PrivacyRequestOut)
def decide(
    public_id: PublicId, body: DecideIn, staff: PrivacyOfficer, context: ContextDep
) -> PrivacyRequestOut:
    """Grant, or deny with reasons in writing."""
    return actions.decide(
        context, staff.actor, public_id, decision=body.decision, reason=body.reason
    )


@router.get("/{public_id}/export")
def export_json(public_id: PublicId, staff: PrivacyOfficer, context: ContextDep) -> Response:
    """Everything held about the person, as JSON (a download)."""
    document = actions.export_json(context, staff.actor, public_id)
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{public_id}.json"'},
    )


@router.get("/{public_id}/export.html", response_class=HTMLResponse)
def export_html(public_id: PublicId, staff: PrivacyOfficer, context: ContextDep) -> HTMLResponse:
    """Everything held about the person, as a readable, printable letter."""
    return _html(actions.export_html(context, staff.actor, public_id))


@router.get("/{public_id}/letters/{kind}", response_class=HTMLResponse)
def letter(
    public_id: PublicId,
    kind: Annotated[actions.Letter, Path()],
    staff: PrivacyOfficer,
    context: ContextDep,
) -> HTMLResponse:
    """A letter to the person: acknowledgement, grant, denial (with reasons), or their
    right to ask for amendment."""
    return _html(actions.letter(context, staff.actor, public_id, kind))


@router.post("/{public_id}/corrections", response_model=CorrectionOut)
def correct(
    public_id: PublicId, body: CorrectionIn, staff: PrivacyOfficer, context: ContextDep
) -> CorrectionOut:
    """Correct the person's contact details on one of their requests, through the
    requests service; only a request found for this person may be corrected."""
    return actions.correct_contact(
        context,
        staff.actor,
        public_id,
        request_id=body.request_id,
        changes=ContactDetails(body.name, body.phone, body.email, body.address),
        clear=frozenset(body.clear),
    )
