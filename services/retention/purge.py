"""The purge: destroys what its schedule no longer allows the city to keep.

Each class is walked in id order, in batches of ``batch_size`` rows, one short
transaction per batch with a pause between, so webhooks keep flowing during a large
purge. Held data (services.retention.holds) is skipped. Nothing is left pointing at a
destroyed row: a request goes with its contact, name tokens, history, call links,
appointments and texts; a call with its events and links, and only once no recording
of it is left; a recording's data key is destroyed first (after which its blob is
unreadable noise), then its blob, then the row (kept, without audio, while QA
evaluations of it are kept). A crash at any point is finished by the next run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.appointments.models import Appointment
from services.calls.models import Call, CallEvent
from services.messaging.models import InboundText, TextMessage
from services.platform import audit
from services.platform.models import AccessLogEntry, AuditEntry
from services.recordings.models import QaEvaluation, Recording
from services.requests.models import (
    ContactNameToken,
    RequestCall,
    RequestContact,
    RequestStatusChange,
    ServiceRequest,
)
from services.retention.holds import Held, resolve
from services.retention.schedules import Schedule, schedules
from services.staff.models import SignInFailure, StaffSession
from storage.blobs import BlobStore
from storage.crypto import Keyring

log = logging.getLogger("switchboard.retention")


@dataclass(frozen=True)
class PurgePolicy:
    """How hard the purge may press: rows per transaction and the pause between them."""

    batch_size: int = 500
    pause_seconds: float = 0.0


@dataclass(frozen=True)
class PurgeConfig:
    db: sessionmaker[Session]
    keyring: Keyring
    blobs: BlobStore
    region: str
    batch_size: int = 500
    pause_seconds: float = 0.0


@dataclass
class PurgeReport:
    as_of: datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    blobs_deleted: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, name: str, count: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + count


Filter = Callable[[Sequence[Any]], bool]


class _Purge:
    def __init__(self, config: PurgeConfig, report: PurgeReport, held: Held) -> None:
        self.config, self.report, self.held = config, report, held

    def walk(
        self,
        name: str,
        query: Select[Any] | Any,
        id_column: Any,
        destroy: Callable[[Session, list[Any]], int] | None,
        *,
        keep: Filter | None = None,
    ) -> None:
        """Run ``destroy`` over the ids ``query`` selects (its first column), batch by
        batch in id order; rows for which ``keep`` says so are skipped and counted held."""
        self.report.counts.setdefault(name, 0)
        last: Any = None
        while True:
            page = query.order_by(id_column).limit(self.config.batch_size)
            if last is not None:
                page = page.where(id_column > last)
            with self.config.db.begin() as session:
                rows = list(session.execute(page))
                if not rows:
                    return
                last = rows[-1][0]
                doomed = [row[0] for row in rows if keep is None or not keep(row)]
                kept = len(rows) - len(doomed)
                if kept:
                    self.report.held[name] = self.report.held.get(name, 0) + kept
                if doomed:
                    if self.report.dry_run or destroy is None:
                        self.report.add(name, len(doomed))
                    else:
                        self.report.add(name, destroy(session, doomed))
            if len(rows) < self.config.batch_size:
                return
            if self.config.pause_seconds:
                time.sleep(self.config.pause_seconds)


def _deleted(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _delete_where(model: Any, column: Any) -> Callable[[Session, list[Any]], int]:
    def destroy(session: Session, ids: list[Any]) -> int:
        return _deleted(session.execute(delete(model).where(column.in_(ids))))

    return destroy


def _destroy_requests(session: Session, ids: list[int]) -> int:
    contacts = select(RequestContact.id).where(RequestContact.request_id.in_(ids))
    session.execute(delete(ContactNameToken).where(ContactNameToken.contact_id.in_(contacts)))
    session.execute(delete(RequestContact).where(RequestContact.request_id.in_(ids)))
    session.execute(delete(RequestStatusChange).where(RequestStatusChange.request_id.in_(ids)))
    session.execute(delete(RequestCall).where(RequestCall.request_id.in_(ids)))
    appointments = select(Appointment.id).where(Appointment.request_id.in_(ids))
    session.execute(delete(TextMessage).where(TextMessage.appointment_id.in_(appointments)))
    session.execute(delete(Appointment).where(Appointment.request_id.in_(ids)))
    return _deleted(session.execute(delete(ServiceRequest).where(ServiceRequest.id.in_(ids))))


def _destroy_calls(session: Session, sids: list[str]) -> int:
    session.execute(delete(CallEvent).where(CallEvent.call_sid.in_(sids)))
    session.execute(delete(RequestCall).where(RequestCall.call_sid.in_(sids)))
    return _deleted(session.execute(delete(Call).where(Call.call_sid.in_(sids))))


def _destroy_recording_keys(session: Session, sids: list[str]) -> int:
    """First step for a recording: its data key goes (and its derived measurements),
    so whatever copy of the blob survives can no longer be read."""
    return _deleted(
        session.execute(
            update(Recording)
            .where(Recording.recording_sid.in_(sids))
            .values(wrapped_key=None, state="destroyed", failure="destroyed by retention")
        )
    )


def _finish_destroyed_recordings(purge: _Purge, *, as_of: datetime) -> None:
    """Delete the blobs of recordings whose keys are gone, then the rows no evaluation
    needs. Also finishes what a crashed run left half done."""
    if purge.report.dry_run:
        return
    config = purge.config
    while True:
        with config.db() as session:
            rows = session.execute(
                select(Recording.id, Recording.blob_key)
                .where(Recording.state == "destroyed", Recording.blob_key.is_not(None))
                .order_by(Recording.id)
                .limit(config.batch_size)
            ).all()
        if not rows:
            break
        for _, blob_key in rows:
            config.blobs.delete(str(blob_key))
            purge.report.blobs_deleted += 1
        with config.db.begin() as session:
            session.execute(
                update(Recording)
                .where(Recording.id.in_([row[0] for row in rows]))
                .values(blob_key=None, blob_sha256=None, updated_at=as_of)
            )
    evaluated = select(QaEvaluation.recording_id).distinct()
    unneeded = select(Recording.id).where(
        Recording.state == "destroyed",
        Recording.blob_key.is_(None),
        Recording.id.not_in(evaluated),
    )
    purge.walk("recording rows", unneeded, Recording.id, _delete_where(Recording, Recording.id))


def run_purge(config: PurgeConfig, *, as_of: datetime, dry_run: bool = False) -> PurgeReport:
    """Destroy (or, dry, count) everything past its schedule as of ``as_of``."""
    report = PurgeReport(as_of=as_of, dry_run=dry_run)
    with config.db() as session:
        plan: dict[str, Schedule] = schedules(session)
        held = resolve(session, config.keyring, region=config.region)
    purge = _Purge(config, report, held)

    def cutoff(name: str) -> datetime:
        return plan[name].cutoff(as_of)

    purge.walk(
        "access_log",
        select(AccessLogEntry.id).where(AccessLogEntry.at < cutoff("access_log")),
        AccessLogEntry.id,
        _delete_where(AccessLogEntry, AccessLogEntry.id),
    )
    purge.walk(
        "webhook_log",
        select(CallEvent.id, CallEvent.call_sid).where(
            CallEvent.received_at < cutoff("webhook_log")
        ),
        CallEvent.id,
        _delete_where(CallEvent, CallEvent.id),
        keep=lambda row: row[1] in held.call_sids,
    )
    purge.walk(
        "sessions",
        select(StaffSession.id).where(
            func.coalesce(StaffSession.ended_at, StaffSession.expires_at) < cutoff("sessions")
        ),
        StaffSession.id,
        _delete_where(StaffSession, StaffSession.id),
    )
    purge.walk(
        "sign_in_failures",
        select(SignInFailure.id).where(SignInFailure.occurred_at < cutoff("sessions")),
        SignInFailure.id,
        _delete_where(SignInFailure, SignInFailure.id),
    )
    held_recording_ids = _ids_of_recordings(config, held.recording_sids)
    purge.walk(
        "qa_evaluations",
        select(QaEvaluation.id, QaEvaluation.recording_id).where(
            QaEvaluation.created_at < cutoff("qa_evaluations")
        ),
        QaEvaluation.id,
        _delete_where(QaEvaluation, QaEvaluation.id),
        keep=lambda row: row[1] in held_recording_ids,
    )
    purge.walk(
        "recordings",
        select(Recording.recording_sid, Recording.id).where(
            Recording.started_at < cutoff("recordings"), Recording.state != "destroyed"
        ),
        Recording.recording_sid,
        _destroy_recording_keys,
        keep=lambda row: row[0] in held.recording_sids,
    )
    _finish_destroyed_recordings(purge, as_of=as_of)
    held_appointments = _appointments_of(config, held.requests)
    purge.walk(
        "sms",
        select(TextMessage.id, TextMessage.to_index, TextMessage.appointment_id).where(
            TextMessage.created_at < cutoff("sms")
        ),
        TextMessage.id,
        _delete_where(TextMessage, TextMessage.id),
        keep=lambda row: row[1] in held.phone_indexes or row[2] in held_appointments,
    )
    purge.walk(
        "sms",
        select(InboundText.id, InboundText.from_index).where(
            InboundText.received_at < cutoff("sms")
        ),
        InboundText.id,
        _delete_where(InboundText, InboundText.id),
        keep=lambda row: row[1] in held.phone_indexes,
    )
    purge.walk(
        "service_requests",
        select(ServiceRequest.id).where(
            ServiceRequest.status == "closed",
            ServiceRequest.closed_at.is_not(None),
            ServiceRequest.closed_at < cutoff("service_requests"),
        ),
        ServiceRequest.id,
        _destroy_requests,
        keep=lambda row: row[0] in held.requests,
    )
    recorded = select(Recording.call_sid)
    if dry_run:  # count as if the recordings due in this run were gone, as they would be
        recorded = recorded.where(
            or_(
                Recording.started_at >= cutoff("recordings"),
                Recording.recording_sid.in_(held.recording_sids),
            )
        )
    ended: ColumnElement[Any] = func.coalesce(Call.ended_at, Call.started_at)
    purge.walk(
        "calls",
        select(Call.call_sid).where(ended < cutoff("calls"), Call.call_sid.not_in(recorded)),
        Call.call_sid,
        _destroy_calls,
        keep=lambda row: row[0] in held.call_sids,
    )
    _purge_audit(config, report, cutoff("audit"), as_of)
    report.held = {name: count for name, count in report.held.items() if count}
    report.counts.pop("recording rows", None)
    return report


def _ids_of_recordings(config: PurgeConfig, sids: Iterable[str]) -> set[int]:
    wanted = list(sids)
    if not wanted:
        return set()
    with config.db() as session:
        return set(session.scalars(select(Recording.id).where(Recording.recording_sid.in_(wanted))))


def _appointments_of(config: PurgeConfig, requests: set[int]) -> set[int]:
    if not requests:
        return set()
    with config.db() as session:
        return set(
            session.scalars(select(Appointment.id).where(Appointment.request_id.in_(requests)))
        )


def _purge_audit(config: PurgeConfig, report: PurgeReport, cutoff: datetime, now: datetime) -> None:
    """Whole sealed months before the cutoff's month go; their seals stay, so what
    remains still verifies (services.audit)."""
    before = audit.month_of(cutoff)
    if report.dry_run:
        with config.db() as session:
            count = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.occurred_at < audit.month_start(before))
            )
        report.add("audit", int(count or 0))
        return
    with config.db.begin() as session:
        audit.seal_months(session, now=now)
        report.add("audit", audit.purge_sealed_months(session, before=before, now=now))
