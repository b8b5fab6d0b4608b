"""Staff API for access-and-correction requests (the privacy officer)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from services.platform import audit
from services.platform.auth import Permission, Staff, require
from services.platform.context import AppContext, ContextDep
from services.platform.errors import InvalidField, Problem
from services.platform.personal_data import Registry
from services.privacy import letters
from services.privacy import service as privacy
from services.privacy.calendar import BusinessCalendar
from services.privacy.holdings import Holdings, find_holdings
from services.privacy.models import PrivacyRequest
from services.requests import service as requests
from services.requests.schemas import ContactCorrection

router = APIRouter(prefix="/api/privacy/requests", tags=["privacy"])

Officer = Annotated[Staff, Depends(require(Permission.PRIVACY_REQUESTS))]
PublicId = Annotated[str, Path(max_length=16, pattern=r"^PR-[0-9A-Z]{8}$")]


class RequesterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, description="Optional")
    phone: str | None = Field(default=None, max_length=40, description="Optional")
    email: str | None = Field(default=None, max_length=254, description="Optional")
    address: str | None = Field(default=None, max_length=300, description="Optional")


class NewRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    received_on: date
    channel: Literal["mail", "email", "in_person", "phone", "web"]
    kinds: list[Literal["access", "correction"]] = Field(min_length=1, max_length=2)
    identity_evidence: str = Field(
        min_length=5,
        max_length=1000,
        description="What was checked to confirm identity (never a copy of the document)",
    )
    requester: RequesterIn


class DeadlineOut(BaseModel):
    kind: str
    due: date
    business_days_left: int
    overdue: bool


class RequestOut(BaseModel):
    id: str
    received_on: date
    channel: str
    kinds: list[str]
    identity_evidence: str
    status: str
    respond_by: date
    acknowledged_on: date | None
    decision_by: date | None
    decided_on: date | None
    decision_reason: str | None
    next_deadline: DeadlineOut | None
    requester: RequesterIn | None = None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_by: date | None = Field(
        default=None, description="When the decision will be made: at most 30 days on"
    )


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["granted", "denied"]
    reason: str | None = Field(default=None, max_length=4000)


class CorrectionIn(ContactCorrection):
    """A correction to the contact on one of the person's own requests."""

    request_id: str = Field(pattern=r"^SR-[0-9A-Z]{5}-[0-9A-Z]{5}$", description="The request")


def _calendar(context: AppContext) -> BusinessCalendar:
    return context.part(BusinessCalendar)


def _today(context: AppContext) -> date:
    return privacy.local_today(context.clock.now(), context.city_tz)


def _out(
    context: AppContext, request: PrivacyRequest, *, with_requester: bool = False
) -> RequestOut:
    found = privacy.deadline(request, today=_today(context), calendar=_calendar(context))
    requester = None
    if with_requester:
        details = privacy.requester_of(context.keyring, request)
        requester = RequesterIn.model_validate(details.__dict__)
    return RequestOut(
        id=request.public_id,
        received_on=request.received_on,
        channel=request.channel,
        kinds=list(request.kinds),
        identity_evidence=request.identity_evidence,
        status=request.status,
        respond_by=request.respond_by,
        acknowledged_on=request.acknowledged_on,
        decision_by=request.decision_by,
        decided_on=request.decided_on,
        decision_reason=request.decision_reason,
        next_deadline=DeadlineOut(**found.__dict__) if found else None,
        requester=requester,
    )


def _audit(
    session: Session,
    staff: Staff,
    context: AppContext,
    action: str,
    public_id: str | None,
    **detail: Any,
) -> None:
    audit.record(
        session,
        actor=staff.actor,
        action=action,
        at=context.clock.now(),
        object_type="privacy_request",
        object_id=public_id,
        detail=detail,
    )


@router.post("", status_code=201, response_model=RequestOut)
def record_request(body: NewRequestIn, staff: Officer, context: ContextDep) -> RequestOut:
    """Record a request as received; the answer is due in 5 business days."""
    now = context.clock.now()
    with context.db.begin() as session:
        request = privacy.record(
            session,
            context.keyring,
            privacy.NewPrivacyRequest(
                received_on=body.received_on,
                channel=body.channel,
                kinds=tuple(body.kinds),
                identity_evidence=body.identity_evidence,
                requester=privacy.Requester(**body.requester.model_dump()),
            ),
            by=staff.user_id,
            now=now,
            today=_today(context),
            calendar=_calendar(context),
            region=context.region,
        )
        _audit(session, staff, context, "privacy.request_record", request.public_id)
        return _out(context, request, with_requester=True)


@router.get("", response_model=list[RequestOut])
def list_requests(
    staff: Officer,
    context: ContextDep,
    which: Annotated[Literal["open", "all"], Query(description="open: the due list")] = "open",
) -> list[RequestOut]:
    """The due list (open requests, soonest deadline first, overdue ones flagged), or all."""
    with context.db.begin() as session:
        found = privacy.open_requests(session) if which == "open" else privacy.all_requests(session)
        out = [_out(context, request) for request in found]
        if which == "open":
            out.sort(key=lambda r: (r.next_deadline.due if r.next_deadline else date.max, r.id))
        _audit(session, staff, context, "privacy.request_list", None, results=len(out))
        return out


@router.get("/{public_id}", response_model=RequestOut)
def read_request(public_id: PublicId, staff: Officer, context: ContextDep) -> RequestOut:
    with context.db.begin() as session:
        request = privacy.get(session, public_id)
        _audit(session, staff, context, "privacy.request_read", public_id)
        return _out(context, request, with_requester=True)


@router.post("/{public_id}/acknowledge", response_model=RequestOut)
def acknowledge(
    public_id: PublicId, body: AcknowledgeIn, staff: Officer, context: ContextDep
) -> RequestOut:
    """Acknowledge in writing with the decision date (default and latest: 30 days on)."""
    with context.db.begin() as session:
        request = privacy.acknowledge(
            privacy.get(session, public_id),
            on=_today(context),
            decision_by=body.decision_by,
            now=context.clock.now(),
        )
        _audit(session, staff, context, "privacy.request_acknowledge", public_id)
        return _out(context, request)


@router.post("/{public_id}/decide", response_model=RequestOut)
def decide(public_id: PublicId, body: DecideIn, staff: Officer, context: ContextDep) -> RequestOut:
    """Grant, or deny with reasons in writing."""
    with context.db.begin() as session:
        request = privacy.decide(
            privacy.get(session, public_id),
            granted=body.decision == "granted",
            reason=body.reason,
            on=_today(context),
            now=context.clock.now(),
        )
        _audit(session, staff, context, "privacy.request_decide", public_id, decision=body.decision)
        return _out(context, request)


def _holdings(session: Session, context: AppContext, request: PrivacyRequest) -> Holdings:
    return find_holdings(
        session,
        context.keyring,
        privacy.requester_of(context.keyring, request),
        region=context.region,
        tz=context.city_tz,
        registry=context.part(Registry),
    )


@router.get("/{public_id}/export")
def export_json(public_id: PublicId, staff: Officer, context: ContextDep) -> Response:
    """Everything held about the person, as JSON (a download)."""
    with context.db.begin() as session:
        request = privacy.get(session, public_id)
        holdings = _holdings(session, context, request)
        _audit(
            session, staff, context, "privacy.export", public_id, format="json", **holdings.counts()
        )
    body = json.dumps(
        {"privacy_request": public_id, **holdings.as_dict()}, indent=2, ensure_ascii=False
    )
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{public_id}.json"'},
    )


def _html(text: str) -> HTMLResponse:
    return HTMLResponse(text, headers={"content-security-policy": letters.CONTENT_SECURITY_POLICY})


@router.get("/{public_id}/export.html", response_class=HTMLResponse)
def export_html(public_id: PublicId, staff: Officer, context: ContextDep) -> HTMLResponse:
    """Everything held about the person, as a readable, printable letter."""
    with context.db.begin() as session:
        request = privacy.get(session, public_id)
        holdings = _holdings(session, context, request)
        _audit(
            session, staff, context, "privacy.export", public_id, format="html", **holdings.counts()
        )
        return _html(
            letters.render_export(
                city=context.city.name,
                request=request,
                requester=privacy.requester_of(context.keyring, request),
                today=_today(context),
                holdings=holdings,
            )
        )


@router.get("/{public_id}/letters/{kind}", response_class=HTMLResponse)
def letter(
    public_id: PublicId,
    kind: Annotated[Literal["acknowledgement", "grant", "denial", "amendment"], Path()],
    staff: Officer,
    context: ContextDep,
) -> HTMLResponse:
    """A letter to the person: acknowledgement, grant, denial (with reasons), or their
    right to ask for amendment."""
    with context.db.begin() as session:
        request = privacy.get(session, public_id)
        needed = {"acknowledgement": "acknowledged", "grant": "granted", "denial": "denied"}
        if kind in needed and request.status != needed[kind]:
            raise Problem(
                409, "Conflict", f"A {kind} letter needs a request that is {needed[kind]}."
            )
        holdings = _holdings(session, context, request) if kind == "grant" else None
        _audit(session, staff, context, "privacy.letter", public_id, letter=kind)
        return _html(
            letters.render_letter(
                kind,
                city=context.city.name,
                request=request,
                requester=privacy.requester_of(context.keyring, request),
                today=_today(context),
                holdings=holdings,
            )
        )


@router.post("/{public_id}/corrections", response_model=dict[str, Any])
def correct(
    public_id: PublicId, body: CorrectionIn, staff: Officer, context: ContextDep
) -> dict[str, Any]:
    """Correct the person's contact details on one of their requests, through the
    requests service; only a request found for this person may be corrected."""
    now = context.clock.now()
    with context.db.begin() as session:
        request = privacy.get(session, public_id)
        if "correction" not in request.kinds:
            raise Problem(409, "Conflict", "This request did not ask for a correction.")
        if request.status not in (*privacy.OPEN, "granted"):
            raise Problem(409, "Conflict", f"This request is {request.status}.")
        holdings = _holdings(session, context, request)
        if body.request_id not in {item["id"] for item in holdings.service_requests}:
            raise InvalidField("request_id", "is not among this person's requests")
        service_request = requests.get_request(session, body.request_id)
        assert service_request is not None
        requests.correct_contact(
            session,
            context.keyring,
            service_request,
            changes=requests.ContactDetails(
                name=body.name, phone=body.phone, email=body.email, address=body.address
            ),
            clear=frozenset(body.clear),
            now=now,
            region=context.region,
        )
        fields = sorted(
            {k for k in ("name", "phone", "email", "address") if getattr(body, k)} | set(body.clear)
        )
        audit.record(
            session,
            actor=staff.actor,
            action="request.contact_correct",
            at=now,
            object_type="service_request",
            object_id=body.request_id,
            detail={"privacy_request": public_id, "fields": fields},
        )
        request.updated_at = now
        return {"request_id": body.request_id, "corrected": fields}
