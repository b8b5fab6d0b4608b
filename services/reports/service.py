"""Aggregate, non-identifying statistics, counted in the database.

Calls are bucketed by the city's local hour and date without loading a row: the range is
cut into stretches of constant UTC offset (a year has at most three), and within each the
local time of an instant is its epoch seconds plus that offset, so a plain integer
division in SQL names the local day or hour on SQLite and PostgreSQL alike. Only the
caller's leg is counted (calls with no ``parent_call_sid``). Published reports suppress
every count below the threshold, and the averages of fewer calls than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Float, Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session, aliased

from services.calls.models import Call
from services.calls.progress import TERMINAL_STATUSES
from services.contacts.models import Contact, ContactTopic
from services.contacts.service import INQUIRY, REQUEST_FOR_SERVICE
from services.platform.errors import InvalidField
from services.requests.models import ServiceRequest, ServiceType

MAX_RANGE_DAYS = 366
DAY_SECONDS = 86_400
HOUR_SECONDS = 3_600
NO_EXTENSION = "none"

Grouping = Literal["hour", "day", "extension"]


@dataclass(frozen=True)
class Publication:
    """What published statistics withhold: any count below ``min_cell``."""

    min_cell: int = 5


@dataclass(frozen=True)
class DateRange:
    """Local dates of the city, both ends included."""

    start: date
    end: date

    @classmethod
    def checked(cls, start: date, end: date, *, max_days: int = MAX_RANGE_DAYS) -> DateRange:
        """The range, or InvalidField (422) when it runs backwards or is too long."""
        if end < start:
            raise InvalidField("end", "must be on or after start")
        if (end - start).days + 1 > max_days:
            raise InvalidField("end", f"the range may span at most {max_days} days")
        return cls(start, end)

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[first instant of ``start``, first instant after ``end``) in UTC."""
        return (local_midnight(self.start, tz), local_midnight(self.end + timedelta(days=1), tz))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz`` (a day that begins in a DST gap
    begins when the gap ends)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _offset_seconds(instant: datetime, tz: ZoneInfo) -> int:
    offset = instant.astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_stretches(
    start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where ``tz``'s UTC offset changes: (from, to, offset seconds).

    Steps an hour at a time and bisects to the second where the offset changes, so zones
    whose changes fall off the hour are cut in the right place too.
    """
    stretches: list[tuple[datetime, datetime, int]] = []
    cursor, offset = start, _offset_seconds(start, tz)
    probe = start
    while probe < end:
        step = min(probe + timedelta(hours=1), end)
        if _offset_seconds(step, tz) != offset:
            low, high = probe, step  # the change lies in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset_seconds(middle, tz) == offset:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)  # zones change on a whole second
            stretches.append((cursor, high, offset))
            cursor, offset = high, _offset_seconds(high, tz)
        probe = step
    stretches.append((cursor, end, offset))
    return [stretch for stretch in stretches if stretch[0] < stretch[1]]


def _epoch_seconds(column: Any, dialect: str) -> ColumnElement[int]:
    """Whole seconds since 1970 of a UTC timestamp column, on either backend."""
    if dialect == "sqlite":  # stored as naive UTC text
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def _seconds_between(earlier: Any, later: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "sqlite":
        return cast((func.julianday(later) - func.julianday(earlier)) * 86_400.0, Float)
    return cast(func.extract("epoch", later - earlier), Float)


def _suppressed(count: int | None, threshold: int) -> int | None:
    """None for a count below ``threshold`` but above zero (a small cell could single a
    person out); zero and larger counts stay."""
    return None if count is not None and 0 < count < threshold else count


# -- calls -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRow:
    key: str
    calls: int | None
    answered: int | None
    abandoned: int | None
    avg_handle_seconds: float | None


@dataclass
class _Tally:
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    handled: int = 0  # answered calls that ended: the base of the average
    handle_seconds: float = 0.0

    def add(self, calls: int, answered: int, abandoned: int, handled: int, seconds: float) -> None:
        self.calls += calls
        self.answered += answered
        self.abandoned += abandoned
        self.handled += handled
        self.handle_seconds += seconds

    def row(self, key: str, suppress_below: int | None) -> CallRow:
        """The row; with ``suppress_below``, small counts and averages of few calls are
        withheld, and so is the complement of a withheld answered or abandoned count
        when the calls are shown (calls minus the one shown would give it away)."""
        average = round(self.handle_seconds / self.handled, 1) if self.handled else None
        if suppress_below is None:
            return CallRow(key, self.calls, self.answered, self.abandoned, average)
        calls = _suppressed(self.calls, suppress_below)
        answered = _suppressed(self.answered, suppress_below)
        abandoned = _suppressed(self.abandoned, suppress_below)
        if calls is not None and (answered is None) != (abandoned is None):
            answered = abandoned = None
        if self.handled < suppress_below:
            average = None
        return CallRow(key, calls, answered, abandoned, average)


# The department's leg: the child a <Dial> makes, answered when a call taker picks up.
# The caller's own leg is answered by the IVR at once, so it says nothing about service.
TAKER = aliased(Call, name="taker")


def _call_measures(dialect: str) -> list[ColumnElement[Any]]:
    answered = TAKER.answered_at.is_not(None)
    handled = and_(answered, TAKER.ended_at.is_not(None))
    abandoned = and_(TAKER.answered_at.is_(None), Call.status.in_(sorted(TERMINAL_STATUSES)))
    return [
        func.count(),
        func.coalesce(func.sum(case((answered, 1), else_=0)), 0),
        func.coalesce(func.sum(case((abandoned, 1), else_=0)), 0),
        func.coalesce(func.sum(case((handled, 1), else_=0)), 0),
        func.coalesce(
            func.sum(
                case(
                    (
                        handled,
                        # Twilio's own count of the leg's seconds, else our timestamps.
                        func.coalesce(
                            cast(TAKER.duration_seconds, Float),
                            _seconds_between(TAKER.answered_at, TAKER.ended_at, dialect),
                        ),
                    ),
                    else_=0.0,
                )
            ),
            0.0,
        ),
    ]


def _with_taker(query: Any) -> Any:
    """Joins each caller's leg to the department leg that was answered, if any (a dial
    rings one department, so at most one leg answers)."""
    return query.select_from(Call).outerjoin(
        TAKER, and_(TAKER.parent_call_sid == Call.call_sid, TAKER.answered_at.is_not(None))
    )


def _callers_legs(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [Call.parent_call_sid.is_(None), Call.started_at >= start, Call.started_at < end]


def call_report(
    session: Session,
    period: DateRange,
    *,
    by: Grouping,
    tz: ZoneInfo,
    suppress_below: int | None = None,
) -> list[CallRow]:
    """Calls, answered, abandoned and the average handle time per local hour of the day
    (summed over the range; keys "00".."23"), per local date, or per extension ("none"
    for calls that never chose one). Hours and dates are listed even when empty. With
    ``suppress_below`` (published reports) small cells are withheld as None."""
    dialect = session.get_bind().dialect.name
    start, end = period.utc_bounds(tz)
    measures = _call_measures(dialect)
    tallies: dict[str, _Tally] = {}
    if by == "extension":
        extension = func.coalesce(Call.extension, NO_EXTENSION)
        query = (
            _with_taker(select(extension, *measures))
            .where(*_callers_legs(start, end))
            .group_by(extension)
            .order_by(extension)
        )
        for key, *counts in session.execute(query):
            tallies.setdefault(str(key), _Tally()).add(*counts)
        return [tally.row(key, suppress_below) for key, tally in tallies.items()]

    if by == "hour":
        tallies = {f"{hour:02d}": _Tally() for hour in range(24)}
    else:
        tallies = {day.isoformat(): _Tally() for day in period.days()}
    epoch = _epoch_seconds(Call.started_at, dialect)
    for stretch_start, stretch_end, offset in offset_stretches(start, end, tz):
        local = epoch + offset
        bucket = (
            (local % DAY_SECONDS) // HOUR_SECONDS if by == "hour" else local // DAY_SECONDS
        ).label("bucket")
        query = (
            _with_taker(select(bucket, *measures))
            .where(*_callers_legs(stretch_start, stretch_end))
            .group_by(bucket)
        )
        for number, *counts in session.execute(query):
            if by == "hour":
                key = f"{int(number):02d}"
            else:
                key = (date(1970, 1, 1) + timedelta(days=int(number))).isoformat()
            tallies[key].add(*counts)
    return [tally.row(key, suppress_below) for key, tally in tallies.items()]


# -- requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    service_code: str
    service_name: str
    status: str
    count: int | None


def request_report(
    session: Session, period: DateRange, *, tz: ZoneInfo, suppress_below: int | None = None
) -> list[RequestRow]:
    """Requests filed in the range (anonymous ones too) per service and current status;
    with ``suppress_below``, counts below it (but above zero) are withheld as None."""
    start, end = period.utc_bounds(tz)
    count = func.count(ServiceRequest.id)
    query = (
        select(ServiceRequest.service_code, ServiceType.name, ServiceRequest.status, count)
        .join(ServiceType, ServiceType.code == ServiceRequest.service_code, isouter=True)
        .where(ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
        .group_by(ServiceRequest.service_code, ServiceType.name, ServiceRequest.status)
        .order_by(ServiceRequest.service_code, ServiceRequest.status)
    )
    return [
        RequestRow(
            code,
            name or code,
            status,
            int(number) if suppress_below is None else _suppressed(int(number), suppress_below),
        )
        for code, name, status, number in session.execute(query)
    ]


# -- contacts --------------------------------------------------------------------------

NONE_KEY = "none"
TOP_INQUIRIES = 10


@dataclass(frozen=True)
class Tally:
    key: str
    count: int | None


@dataclass(frozen=True)
class MonthTop:
    month: str  # YYYY-MM, the city's calendar
    items: list[Tally]


@dataclass(frozen=True)
class ContactFigures:
    by_topic: list[Tally]
    by_resolution: list[Tally]
    by_channel: list[Tally]
    by_department: list[Tally]
    inquiries: int | None
    requests_for_service: int | None
    neither: int | None
    top_inquiries: list[MonthTop]


def _tallies(rows: Any, suppress_below: int | None) -> list[Tally]:
    found = [Tally(str(key), int(count)) for key, count in rows]
    found.sort(key=lambda tally: (-(tally.count or 0), tally.key))
    if suppress_below is None:
        return found
    return [Tally(tally.key, _suppressed(tally.count, suppress_below)) for tally in found]


def months_of(period: DateRange) -> list[date]:
    """The first day of every calendar month the range touches."""
    first = period.start.replace(day=1)
    months = []
    while first <= period.end:
        months.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return months


def top_inquiries(
    session: Session,
    period: DateRange,
    *,
    tz: ZoneInfo,
    suppress_below: int | None = None,
    limit: int = TOP_INQUIRIES,
) -> list[MonthTop]:
    """The ``limit`` topics most asked about in inquiries (information given, a referral
    or a transfer), per calendar month of the range (its ends clipped to the range). One
    index range scan per month over ``contact_topics`` (kind, then start)."""
    start, end = period.utc_bounds(tz)
    found = []
    for first in months_of(period):
        after = (first + timedelta(days=32)).replace(day=1)
        low = max(start, local_midnight(first, tz))
        high = min(end, local_midnight(after, tz))
        count = func.count().label("n")
        rows = session.execute(
            select(ContactTopic.code, count)
            .where(
                ContactTopic.started_at >= low,
                ContactTopic.started_at < high,
                ContactTopic.kind == "inquiry",
            )
            .group_by(ContactTopic.code)
            .order_by(count.desc(), ContactTopic.code)
            .limit(limit)
        )
        found.append(MonthTop(first.strftime("%Y-%m"), _tallies(rows, suppress_below)))
    return found


def contact_report(
    session: Session, period: DateRange, *, tz: ZoneInfo, suppress_below: int | None = None
) -> ContactFigures:
    """Contacts started in the range by topic, resolution ("open" until wrapped up),
    channel and department; inquiries versus requests for service; the top inquiries per
    month. With ``suppress_below`` (published), small counts are withheld as None."""
    start, end = period.utc_bounds(tz)
    in_range = (Contact.started_at >= start, Contact.started_at < end)

    def grouped(column: Any) -> list[Tally]:
        key = func.coalesce(column, NONE_KEY)
        rows = session.execute(select(key, func.count()).where(*in_range).group_by(key))
        return _tallies(rows, suppress_below)

    resolution = func.coalesce(Contact.resolution, "open")
    by_resolution = _tallies(
        session.execute(select(resolution, func.count()).where(*in_range).group_by(resolution)),
        suppress_below,
    )
    topics = session.execute(
        select(ContactTopic.code, func.count())
        .where(ContactTopic.started_at >= start, ContactTopic.started_at < end)
        .group_by(ContactTopic.code)
    )
    kinds = {
        str(kind): int(count)
        for kind, count in session.execute(
            select(
                case(
                    (Contact.resolution.in_(sorted(INQUIRY)), "inquiry"),
                    (Contact.resolution.in_(sorted(REQUEST_FOR_SERVICE)), "request"),
                    else_="other",
                ).label("kind"),
                func.count(),
            )
            .where(*in_range, Contact.resolution.is_not(None))
            .group_by("kind")
        )
    }

    def shown(count: int) -> int | None:
        return count if suppress_below is None else _suppressed(count, suppress_below)

    return ContactFigures(
        by_topic=_tallies(topics, suppress_below),
        by_resolution=by_resolution,
        by_channel=grouped(Contact.channel),
        by_department=grouped(Contact.department),
        inquiries=shown(kinds.get("inquiry", 0)),
        requests_for_service=shown(kinds.get("request", 0)),
        neither=shown(kinds.get("other", 0)),
        top_inquiries=top_inquiries(session, period, tz=tz, suppress_below=suppress_below),
    )


@dataclass(frozen=True)
class AgentRow:
    agent: str
    contacts: int
    avg_talk_seconds: float | None
    avg_after_contact_seconds: float | None
    avg_handle_seconds: float | None


def agent_report(session: Session, period: DateRange, *, tz: ZoneInfo) -> list[AgentRow]:
    """Per agent, their phone contacts that ended in the range: average talk time,
    after-contact work (end to wrap-up, of those wrapped up) and handle time (the two
    together). Internal figures: they name staff."""
    dialect = session.get_bind().dialect.name
    start, end = period.utc_bounds(tz)
    talk = _seconds_between(Contact.started_at, Contact.ended_at, dialect)
    after = _seconds_between(Contact.ended_at, Contact.wrapped_up_at, dialect)
    rows = session.execute(
        select(Contact.agent, func.count(), func.avg(talk), func.avg(after))
        .where(
            Contact.channel == "phone",
            Contact.agent.is_not(None),
            Contact.ended_at.is_not(None),
            Contact.started_at >= start,
            Contact.started_at < end,
        )
        .group_by(Contact.agent)
        .order_by(Contact.agent)
    )
    found = []
    for agent, count, talk_avg, after_avg in rows:
        talk_s = None if talk_avg is None else round(float(talk_avg), 1)
        after_s = None if after_avg is None else round(float(after_avg), 1)
        handle = None if talk_s is None else round(talk_s + (after_s or 0.0), 1)
        found.append(AgentRow(str(agent), int(count), talk_s, after_s, handle))
    return found
