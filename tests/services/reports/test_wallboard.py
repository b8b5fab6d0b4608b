"""The supervisors' wallboard: calls waiting and the longest wait, staff by presence,
service level (answered within 30 s today) and abandoned calls today, per department."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.staff.models import StaffUser
from tests.services.reports.test_reports import add_call
from tests.support import StaffFactory, audit_entries

NOON = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)  # noon in New York


def test_the_board_counts_now_and_today_per_department(
    client: TestClient, staff: StaffFactory, context: AppContext, clock: ManualClock
) -> None:
    clock.set(NOON)
    supervisor = staff.headers("supervisor")
    for name, state, department in (
        ("ana", "available", "1"),
        ("bo", "busy", "1"),
        ("cy", "away", "2"),
    ):
        staff.token("agent", name)
        with context.db.begin() as session:
            session.execute(
                sa.update(StaffUser)
                .where(StaffUser.username == name)
                .values(department=department, presence=state, presence_since=NOON)
            )
    add_call(context, NOON - timedelta(hours=2), answered_after=10)  # in time
    add_call(context, NOON - timedelta(hours=1), answered_after=45)  # answered late
    add_call(context, NOON - timedelta(minutes=30), answered_after=None, status="canceled")
    add_call(context, NOON - timedelta(days=1), answered_after=None, status="canceled")
    add_call(context, NOON - timedelta(seconds=95), answered_after=None, handled_for=None)
    waiting = add_call(context, NOON - timedelta(seconds=20), extension="2", answered_after=None)
    with context.db.begin() as session:  # still ringing: not ended
        session.execute(
            sa.text("UPDATE calls SET ended_at = NULL, status = 'in-progress' WHERE call_sid = :s"),
            {"s": waiting},
        )
        session.execute(
            sa.text(
                "UPDATE calls SET ended_at = NULL, status = 'ringing' "
                "WHERE started_at > :t AND parent_call_sid IS NULL AND extension = '1'"
            ),
            {"t": NOON - timedelta(minutes=2)},
        )

    board = client.get("/api/reports/wallboard", headers=supervisor)
    assert board.status_code == 200, board.text
    body = board.json()
    departments = {row["department"]: row for row in body["departments"]}
    first, second = departments["1"], departments["2"]
    assert first["waiting"] == 1 and first["longest_wait_seconds"] == 95
    assert first["answered_today"] == 2 and first["answered_in_time"] == 1
    assert first["abandoned_today"] == 1  # yesterday's is not today's
    assert first["service_level"] == 33.3
    assert first["agents"] == {"available": 1, "busy": 1, "wrap_up": 0, "away": 0}
    assert first["staff"] == {"available": ["ana"], "busy": ["bo"], "wrap_up": [], "away": []}
    assert second["waiting"] == 1 and second["longest_wait_seconds"] == 20
    assert second["agents"]["away"] == 1 and second["service_level"] is None
    assert body["total"]["waiting"] == 2 and body["total"]["longest_wait_seconds"] == 95
    assert body["total"]["staff"] == {
        "available": ["ana"],
        "busy": ["bo"],
        "wrap_up": [],
        "away": ["cy"],
    }
    assert body["threshold_seconds"] == 30

    opened = audit_entries(context, AuditEntry.object_id == "wallboard")
    assert [entry.action for entry in opened] == ["report.read"]
    agent = staff.headers("agent")
    assert client.get("/api/reports/wallboard", headers=agent).status_code == 403
