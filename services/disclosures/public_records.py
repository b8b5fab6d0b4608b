"""The public-records export of service requests: what was asked for where, never by whom.

Each row has the request's public id, service, status, channel, the local dates it was
filed and closed, the problem's location without street or unit numbers, and its point
rounded to three decimals (about 110 m). Names, numbers, emails, the caller's home
address and the description (free text can name people) are never read. Rows are read
in keyset batches, so a year of requests is never held in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from services.requests.models import ServiceRequest, ServiceType
from services.requests.text import without_street_numbers

BATCH = 1000
COLUMNS = (
    "id",
    "service_code",
    "service_name",
    "status",
    "channel",
    "created_on",
    "closed_on",
    "location",
    "lat",
    "long",
)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass(frozen=True)
class Snapshot:
    """The requests an export covers: filed in [start, end) and numbered up to
    ``last_id`` when it began, so the count logged is the count sent."""

    start: datetime
    end: datetime
    last_id: int
    count: int


def snapshot(session: Session, start: datetime, end: datetime) -> Snapshot:
    in_range = (ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
    count, last_id = session.execute(
        select(func.count(ServiceRequest.id), func.max(ServiceRequest.id)).where(*in_range)
    ).one()
    return Snapshot(start, end, int(last_id or 0), int(count))


def rows(
    sessions: sessionmaker[Session], covered: Snapshot, tz: ZoneInfo
) -> Iterator[dict[str, object]]:
    """The export's rows in filing order, one short read per batch."""
    query = (
        select(
            ServiceRequest.id,
            ServiceRequest.created_at,
            ServiceRequest.public_id,
            ServiceRequest.service_code,
            ServiceType.name,
            ServiceRequest.status,
            ServiceRequest.channel,
            ServiceRequest.closed_at,
            ServiceRequest.address,
            ServiceRequest.lat,
            ServiceRequest.long,
        )
        .join(ServiceType, ServiceType.code == ServiceRequest.service_code, isouter=True)
        .where(
            ServiceRequest.created_at >= covered.start,
            ServiceRequest.created_at < covered.end,
            ServiceRequest.id <= covered.last_id,
        )
        .order_by(ServiceRequest.created_at, ServiceRequest.id)
        .limit(BATCH)
    )
    after: tuple[datetime, int] | None = None
    while True:
        batch_query = query
        if after is not None:
            filed, last = after
            batch_query = query.where(
                or_(
                    ServiceRequest.created_at > filed,
                    and_(ServiceRequest.created_at == filed, ServiceRequest.id > last),
                )
            )
        with sessions() as session:
            batch = session.execute(batch_query).all()
        for row in batch:
            yield {
                "id": row.public_id,
                "service_code": row.service_code,
                "service_name": row.name or row.service_code,
                "status": row.status,
                "channel": row.channel,
                "created_on": row.created_at.astimezone(tz).date().isoformat(),
                "closed_on": (
                    row.closed_at.astimezone(tz).date().isoformat() if row.closed_at else None
                ),
                "location": without_street_numbers(row.address),
                "lat": _rounded(row.lat),
                "long": _rounded(row.long),
            }
        if len(batch) < BATCH:
            return
        after = (batch[-1].created_at, batch[-1].id)


def json_lines(head: dict[str, Any], rows: Iterator[dict[str, object]]) -> Iterator[bytes]:
    """One JSON document, ``head`` with its ``rows``, written as the rows arrive."""
    yield (json.dumps(head)[:-1] + ', "rows": [').encode()
    for number, row in enumerate(rows):
        yield (("," if number else "") + "\n" + json.dumps(row)).encode()
    yield b"\n]}\n"


def csv_lines(rows: Iterator[dict[str, object]]) -> Iterator[bytes]:
    """CSV with a header row, written 500 rows at a time."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@dataclass(frozen=True)
class Export:
    """An export already logged as a disclosure: its number, and the document to send."""

    disclosure_id: str
    media_type: str
    chunks: Iterator[bytes]
    download_name: str | None = None  # sent as an attachment under this name
