"""The public's view of service requests through Open311: the GeoReport v2 filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from services.requests.models import RequestStatusChange, ServiceRequest

# GeoReport v2 lets a server answer up to 1,000 requests a query; clients that follow the
# specification ask without page_size, so that is also the default (see discovery).
MAX_RESULTS = 1000


@dataclass(frozen=True)
class RequestQuery:
    """GeoReport v2's filters: ids (which override the rest), or a period with services
    and statuses ("open", "closed"); a page of ``size`` requests, newest first."""

    ids: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    page: int = 1
    size: int = MAX_RESULTS


def find_requests(session: Session, query: RequestQuery) -> list[ServiceRequest]:
    """The page of requests ``query`` names, newest first."""
    statement = select(ServiceRequest)
    if query.ids:
        statement = statement.where(ServiceRequest.public_id.in_(query.ids[:MAX_RESULTS]))
    else:
        if query.start is not None:
            statement = statement.where(ServiceRequest.created_at >= query.start.astimezone(UTC))
        if query.end is not None:
            statement = statement.where(ServiceRequest.created_at <= query.end.astimezone(UTC))
        if query.service_codes:
            statement = statement.where(ServiceRequest.service_code.in_(query.service_codes))
        if query.statuses == ("open",):
            statement = statement.where(ServiceRequest.status != "closed")
        elif query.statuses == ("closed",):
            statement = statement.where(ServiceRequest.status == "closed")
    statement = (
        statement.options(selectinload(ServiceRequest.contact))
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .offset((query.page - 1) * query.size)
        .limit(query.size)
    )
    return list(session.scalars(statement))


@dataclass(frozen=True)
class UpdateQuery:
    """The filters of mySociety's servicerequestupdates: changes at or after ``start``
    and at or before ``end``; a page of ``size``, oldest first."""

    start: datetime
    end: datetime
    page: int = 1
    size: int = MAX_RESULTS


def find_updates(
    session: Session, query: UpdateQuery
) -> list[tuple[RequestStatusChange, ServiceRequest]]:
    """Status changes of requests in the period, oldest first, each with its request;
    a request's first entry (its filing) is not an update."""
    first = aliased(RequestStatusChange)
    filing = (
        select(func.min(first.id))
        .where(first.request_id == RequestStatusChange.request_id)
        .scalar_subquery()
    )
    statement = (
        select(RequestStatusChange, ServiceRequest)
        .join(ServiceRequest, ServiceRequest.id == RequestStatusChange.request_id)
        .where(
            RequestStatusChange.changed_at >= query.start.astimezone(UTC),
            RequestStatusChange.changed_at <= query.end.astimezone(UTC),
            RequestStatusChange.id != filing,
        )
        .order_by(RequestStatusChange.changed_at, RequestStatusChange.id)
        .offset((query.page - 1) * query.size)
        .limit(query.size)
    )
    return [(change, request) for change, request in session.execute(statement)]


def request_by_token(session: Session, token: str) -> ServiceRequest | None:
    """The request an Open311 submission token became."""
    return session.scalar(select(ServiceRequest).where(ServiceRequest.open311_token == token))
