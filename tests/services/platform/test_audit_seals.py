"""Month seals keep the trail verifiable after old months are purged; the viewer reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform import audit
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry, AuditSeal
from tests.support import StaffFactory


def write(context: AppContext, count: int, action: str = "calls.search") -> None:
    for number in range(count):
        with context.db.begin() as session:
            audit.record(
                session,
                actor=audit.Actor(7, "dana", "agent", f"req-{number}"),
                action=action,
                at=context.clock.now(),
                detail={"n": number},
            )


def three_months(context: AppContext, clock: ManualClock) -> None:
    for month in (8, 9, 10):
        clock.set(datetime(2026, month, 15, 12, tzinfo=UTC))
        write(context, 4)
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    write(context, 2)


def purged_before(month: str, context: AppContext, clock: ManualClock) -> int:
    """Three months and a bit of entries written, the complete months sealed and those
    before ``month`` purged; how many entries the purge removed."""
    three_months(context, clock)
    with context.db.begin() as session:
        audit.seal_months(session, now=clock.now())
        return audit.purge_sealed_months(session, before=month, now=clock.now())


def verify(context: AppContext) -> audit.VerifyResult:
    with context.db() as session:
        return audit.verify(session)


def test_complete_months_are_sealed_once(context: AppContext, clock: ManualClock) -> None:
    three_months(context, clock)
    with context.db.begin() as session:
        assert audit.seal_months(session, now=clock.now()) == ["2026-08", "2026-09", "2026-10"]
        assert audit.seal_months(session, now=clock.now()) == []
        seals = session.scalars(sa.select(AuditSeal).order_by(AuditSeal.month)).all()
        assert [(s.first_seq, s.last_seq, s.entries) for s in seals] == [
            (1, 4, 4),
            (5, 8, 4),
            (9, 12, 4),
        ]
    assert verify(context) == audit.VerifyResult(True, 14)


def test_purging_sealed_months_keeps_the_rest_verifiable(
    context: AppContext, clock: ManualClock
) -> None:
    assert purged_before("2026-10", context, clock) == 8
    result = verify(context)
    assert result == audit.VerifyResult(True, 6)
    write(context, 1)
    assert verify(context).intact


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        (sa.update(AuditEntry).where(AuditEntry.seq == 10).values(outcome="denied"), 10),
        (sa.delete(AuditEntry).where(AuditEntry.seq == 12), 12),
        (sa.update(AuditSeal).where(AuditSeal.month == "2026-09").values(last_seq=7), 5),
        (sa.update(AuditSeal).where(AuditSeal.month == "2026-08").values(last_hash="0" * 64), 1),
    ],
)
def test_tampering_after_a_purge_is_still_found(
    context: AppContext, clock: ManualClock, tamper: sa.Executable, first_bad: int
) -> None:
    purged_before("2026-10", context, clock)
    with context.engine.begin() as connection:
        connection.execute(tamper)
    result = verify(context)
    assert not result.intact
    assert result.first_bad_seq == first_bad


def test_an_entry_left_behind_in_a_purged_month_is_found(
    context: AppContext, clock: ManualClock
) -> None:
    purged_before("2026-09", context, clock)
    with context.engine.begin() as connection:
        connection.execute(
            sa.update(AuditSeal).where(AuditSeal.month == "2026-09").values(purged_at=clock.now())
        )
    assert verify(context).intact is False


def test_the_viewer_filters_and_pages_for_privacy_officers(
    client: TestClient, staff: StaffFactory, context: AppContext, clock: ManualClock
) -> None:
    write(context, 5, "calls.search")
    clock.advance(timedelta(hours=1))
    write(context, 3, "call.view")
    officer = staff.headers("privacy_officer", "olga")
    first = client.get(
        "/api/audit", params={"action": "calls.search", "limit": 3}, headers=officer
    ).json()
    assert [item["detail"]["n"] for item in first["items"]] == [4, 3, 2]
    second = client.get(
        "/api/audit",
        params={"action": "calls.search", "limit": 3, "before_seq": first["next_before_seq"]},
        headers=officer,
    ).json()
    assert [item["detail"]["n"] for item in second["items"]] == [1, 0]
    assert second["next_before_seq"] is None
    since = (clock.now() - timedelta(minutes=1)).isoformat()
    recent = client.get(
        "/api/audit", params={"since": since, "actor_id": 7}, headers=officer
    ).json()
    assert {item["action"] for item in recent["items"]} == {"call.view"}
    assert client.get("/api/audit", params={"surprise": 1}, headers=officer).status_code == 422
    assert client.get("/api/audit", headers=staff.headers("admin")).status_code == 403
    assert client.get("/api/audit", headers=staff.headers("supervisor")).status_code == 403
