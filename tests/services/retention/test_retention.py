"""Retention: schedules, the batched purge, legal holds, and the minimal access log.

Everything is put in place the way it arrives (signed webhooks, the staff API) and the
clock is driven: the purge runs "as of" chosen instants, nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.calls.models import Call, CallEvent
from services.platform import audit
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AccessLogEntry, AuditEntry, AuditSeal
from services.platform.settings import Settings
from services.recordings.models import QaEvaluation, QaForm, Recording
from services.requests.models import (
    ContactNameToken,
    RequestCall,
    RequestContact,
    RequestStatusChange,
    ServiceRequest,
)
from services.retention.actions import run_retention
from services.retention.models import LegalHold
from services.retention.schedules import subtract
from tests.support import StaffFactory, TwilioClient, audit_entries, audit_entry, call_sid

CALLER = {
    "name": "Marisol Quintero",
    "phone": "(302) 555-0177",
    "email": "marisol.q@example.net",
    "address": "88 Lancaster Ave",
}
T0 = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def place_call(twilio: TwilioClient, frm: str = "+13025550177") -> str:
    sid = twilio.ring(From=frm)
    done = twilio.call_params(sid, "completed", From=frm, CallDuration="60", SequenceNumber="3")
    assert twilio.post("/twilio/voice/status", done).is_success
    return sid


def file_closed(client: TestClient, headers: dict[str, str], sid: str | None = None) -> str:
    body: dict[str, Any] = {
        "service_code": "pothole",
        "description": "Pothole by the bus stop",
        "address": "500 N Market St",
        "contact": CALLER,
    }
    if sid:
        body["call_sid"] = sid
    filed = client.post("/api/requests", json=body, headers=headers)
    assert filed.status_code == 201, filed.text
    public_id: str = filed.json()["id"]
    closed = client.post(
        f"/api/requests/{public_id}/status", json={"status": "closed"}, headers=headers
    )
    assert closed.status_code == 200, closed.text
    return public_id


def add_recording(context: AppContext, sid: str, *, evaluated: bool = False) -> str:
    rsid = "RE" + sid[2:]
    key = f"recordings/{rsid}.ogg.enc"
    context.blobs.put(key, b"\x00encrypted audio\x00" * 64)
    now = context.clock.now()
    with context.db.begin() as session:
        recording = Recording(
            recording_sid=rsid,
            call_sid=sid,
            kind="call",
            twilio_status="completed",
            channels=2,
            started_at=now,
            state="done",
            wrapped_key=b"wrapped data key",
            blob_key=key,
            blob_sha256="0" * 64,
            created_at=now,
            updated_at=now,
        )
        session.add(recording)
        session.flush()
        if evaluated:
            form = session.scalar(sa.select(QaForm).limit(1))
            if form is None:
                form = QaForm(name="Basic", version=1, definition={}, created_at=now)
                session.add(form)
                session.flush()
            agent_id = session.scalar(sa.text("select min(id) from staff_users"))
            session.add(
                QaEvaluation(
                    recording_id=recording.id,
                    form_id=form.id,
                    agent_id=agent_id,
                    evaluator_id=agent_id,
                    answers={},
                    earned_points=1,
                    possible_points=1,
                    score=100,
                    created_at=now,
                )
            )
    return rsid


def count(context: AppContext, model: Any, *where: Any) -> int:
    with context.db() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def test_calendar_arithmetic() -> None:
    assert subtract(datetime(2027, 3, 31, tzinfo=UTC), 1, "months") == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    assert subtract(datetime(2028, 3, 31, tzinfo=UTC), 1, "months") == datetime(
        2028, 2, 29, tzinfo=UTC
    )
    assert subtract(datetime(2027, 1, 15, tzinfo=UTC), 1, "months") == datetime(
        2026, 12, 15, tzinfo=UTC
    )
    assert subtract(datetime(2030, 5, 1, tzinfo=UTC), 3, "years") == datetime(
        2027, 5, 1, tzinfo=UTC
    )


def test_each_class_goes_on_its_own_schedule_and_leaves_no_orphans(
    context: AppContext, client: TestClient, twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = place_call(twilio)
    public_id = file_closed(client, agent, sid)
    rsid = add_recording(context, sid)
    blob_key = f"recordings/{rsid}.ogg.enc"
    assert context.access_log is not None
    context.access_log.flush()
    assert count(context, AccessLogEntry) > 0

    # One month and a day on: logs go; everything else stays.
    report = run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=32))
    assert report.counts["access_log"] > 0 and report.counts["webhook_log"] == 2
    assert count(context, AccessLogEntry, AccessLogEntry.at < T0 + timedelta(days=1)) == 0
    assert count(context, CallEvent) == 0
    assert count(context, Call) == 1 and count(context, Recording) == 1

    # A year and a day: the recording goes, key first, then its blob.
    report = run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=367))
    assert report.counts["recordings"] == 1 and report.blobs_deleted == 1
    assert count(context, Recording) == 0
    with pytest.raises(Exception):  # noqa: B017 - any store error: the blob is gone
        context.blobs.get(blob_key)
    assert count(context, Call) == 1 and count(context, ServiceRequest) == 1

    # Three years and a day after closure and after the call: both go, with every child.
    report = run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=3 * 366))
    assert report.counts["service_requests"] == 1 and report.counts["calls"] == 1
    for model in (
        ServiceRequest,
        RequestContact,
        ContactNameToken,
        RequestStatusChange,
        RequestCall,
        Call,
    ):
        assert count(context, model) == 0, model.__tablename__
    assert client.get(f"/api/requests/{public_id}", headers=agent).status_code == 404

    # One audit entry per run, with counts and nothing personal.
    runs = audit_entries(context, AuditEntry.action == "retention.run")
    assert len(runs) == 3
    assert runs[-1].detail["destroyed"]["service_requests"] == 1
    text = str([run.detail for run in runs])
    for value in (*CALLER.values(), "3025550177", public_id, sid):
        assert value not in text


def test_open_requests_and_evaluated_recordings_are_kept_as_their_schedules_say(
    context: AppContext, client: TestClient, twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = place_call(twilio)
    filed = client.post(
        "/api/requests",
        json={"service_code": "pothole", "address": "1 Main St", "contact": CALLER},
        headers=agent,
    )
    assert filed.status_code == 201
    add_recording(context, sid, evaluated=True)
    run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=400))
    with context.db() as session:
        recording = session.scalars(sa.select(Recording)).one()
    # The audio and its key are gone; the row stays for the evaluation that needs it.
    assert recording.wrapped_key is None and recording.blob_key is None
    assert recording.state == "destroyed"
    run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=5 * 366))
    # The evaluation went after three years, then the recording row, then the call;
    # the open request is never purged.
    assert count(context, QaEvaluation) == 0 and count(context, Recording) == 0
    assert count(context, Call) == 0
    assert count(context, ServiceRequest) == 1 and count(context, RequestContact) == 1


def test_legal_holds_keep_data_until_every_hold_is_released(
    context: AppContext,
    client: TestClient,
    twilio: TwilioClient,
    agent: dict[str, str],
    staff: StaffFactory,
) -> None:
    officer = staff.headers("privacy_officer", "pat")
    held_call = place_call(twilio, "+13025550188")
    add_recording(context, held_call)
    person_call = place_call(twilio)  # from the caller held by phone
    by_request = file_closed(client, agent)
    free = place_call(twilio, "+13025550199")

    holds = [
        {"target_type": "call", "target_ref": held_call, "reason": "Claim 2026-114"},
        {"target_type": "request", "target_ref": by_request, "reason": "Court order 55"},
        {"target_type": "person", "person": {"phone": "302.555.0177"}, "reason": "Subpoena 9"},
        {"target_type": "person", "person": {"email": CALLER["email"]}, "reason": "Same case"},
    ]
    placed = []
    for hold in holds:
        response = client.post("/api/holds", json=hold, headers=officer)
        assert response.status_code == 201, response.text
        placed.append(response.json()["id"])
    assert client.post("/api/holds", json=holds[0], headers=agent).status_code == 403
    bad = client.post(
        "/api/holds",
        json={"target_type": "call", "target_ref": call_sid(), "reason": "no such call"},
        headers=officer,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "target_ref"
    ssn = client.post(
        "/api/holds",
        json={"target_type": "call", "target_ref": held_call, "reason": "SSN 219-09-9999"},
        headers=officer,
    )
    assert ssn.status_code == 422 and ssn.json()["errors"][0]["field"] == "reason"
    assert "9999" not in ssn.text
    with context.db() as session:
        sealed = session.scalars(sa.select(LegalHold.person_sealed)).all()
    assert all(CALLER["email"].encode() not in (value or b"") for value in sealed)

    later = T0 + timedelta(days=5 * 366)
    report = run_retention(context, audit.SYSTEM, as_of=later)
    assert report.counts.get("calls") == 1  # only the free call
    remaining = {row for row in _call_sids(context)}
    assert remaining == {held_call, person_call}
    assert count(context, Recording) == 1 and count(context, ServiceRequest) == 1
    # The held call waits for its held recording; the person's call is held itself.
    assert report.held == {
        "calls": 1,
        "recordings": 1,
        "service_requests": 1,
        "webhook_log": 4,
    }
    assert free not in remaining

    # Releasing the call's hold frees the call and its recording; the request is held
    # twice over (by number and by the person's email) and stays until both go.
    refused = client.post(
        f"/api/holds/{placed[0]}/release", json={"reason": "SSN 219-09-9999"}, headers=officer
    )
    assert refused.status_code == 422 and "9999" not in refused.text
    for hold_id in placed[:2]:
        released = client.post(
            f"/api/holds/{hold_id}/release", json={"reason": "Case closed"}, headers=officer
        )
        assert released.status_code == 200 and released.json()["released_at"]
    run_retention(context, audit.SYSTEM, as_of=later)
    assert _call_sids(context) == {person_call}
    assert count(context, Recording) == 0 and count(context, ServiceRequest) == 1
    for hold_id in placed[2:]:
        client.post(f"/api/holds/{hold_id}/release", json={"reason": "Done"}, headers=officer)
    run_retention(context, audit.SYSTEM, as_of=later)
    assert count(context, Call) == 0 and count(context, ServiceRequest) == 0
    listed = client.get("/api/holds", params={"released": True}, headers=officer).json()
    assert {hold["id"] for hold in listed} == set(placed)


def test_refused_releases_and_schedule_changes_are_audited(
    context: AppContext, client: TestClient, twilio: TwilioClient, staff: StaffFactory
) -> None:
    officer = staff.headers("privacy_officer", "pat")
    admin = staff.headers("admin", "root")
    sid = place_call(twilio)
    hold_id = client.post(
        "/api/holds",
        json={"target_type": "call", "target_ref": sid, "reason": "Claim 2026-115"},
        headers=officer,
    ).json()["id"]
    for status in (200, 409):
        released = client.post(
            f"/api/holds/{hold_id}/release", json={"reason": "Case closed"}, headers=officer
        )
        assert released.status_code == status
    missing = client.post(
        "/api/holds/LH-ZZZZZZZZ/release", json={"reason": "Case closed"}, headers=officer
    )
    assert missing.status_code == 404
    too_long = client.put(
        "/api/retention/schedules/webhook_log", json={"amount": 2, "unit": "years"}, headers=admin
    )
    assert too_long.status_code == 422
    entries = audit_entries(context, AuditEntry.action.in_(["hold.release", "config.retention"]))
    assert [(e.action, e.object_id, e.outcome) for e in entries] == [
        ("hold.release", hold_id, "ok"),
        ("hold.release", hold_id, "conflict"),
        ("hold.release", "LH-ZZZZZZZZ", "not_found"),
        ("config.retention", "webhook_log", "invalid"),
    ]
    schedules = client.get("/api/retention/schedules", headers=admin).json()
    assert {row["record_class"]: row["unit"] for row in schedules}["webhook_log"] == "months"


def _call_sids(context: AppContext) -> set[str]:
    with context.db() as session:
        return set(session.scalars(sa.select(Call.call_sid)))


def test_a_dry_run_counts_and_changes_nothing(
    context: AppContext, client: TestClient, twilio: TwilioClient, agent: dict[str, str]
) -> None:
    sid = place_call(twilio)
    file_closed(client, agent, sid)
    add_recording(context, sid)
    before = {model: count(context, model) for model in (Call, CallEvent, Recording)}
    report = run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=4 * 366), dry_run=True)
    assert report.counts["recordings"] == 1 and report.counts["service_requests"] == 1
    assert report.counts["calls"] == 1 and report.blobs_deleted == 0
    assert {model: count(context, model) for model in before} == before
    entry = audit_entry(context, AuditEntry.action == "retention.dry_run")
    assert entry.detail["due"]["recordings"] == 1


def test_the_command_line_runs_the_purge_as_of_a_date(
    context: AppContext, twilio: TwilioClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.app.cli import main

    place_call(twilio)
    env_settings = context.part(Settings)
    import os

    os.environ["SWITCHBOARD_DATABASE_URL"] = env_settings.database_url
    os.environ["SWITCHBOARD_DATA_DIR"] = str(env_settings.data_dir)
    os.environ["SWITCHBOARD_MASTER_KEY"] = env_settings.master_key.get_secret_value()  # type: ignore[union-attr]
    try:
        assert main(["retention", "run", "--as-of", "2027-01-01", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "would destroy" in out and "webhook_log" in out
        assert count(context, CallEvent) == 2
        assert main(["retention", "run", "--as-of", "2027-01-01"]) == 0
        assert count(context, CallEvent) == 0
        runs = audit_entries(context, AuditEntry.object_type == "retention")
        assert [(run.action, run.actor_name) for run in runs] == [
            ("retention.dry_run", "system"),
            ("retention.run", "system"),
        ]
        assert main(["retention", "run", "--as-of", "not a date"]) != 0
    except SystemExit as exit_:
        assert exit_.code == 2
    finally:
        for name in ("DATABASE_URL", "DATA_DIR", "MASTER_KEY"):
            os.environ.pop(f"SWITCHBOARD_{name}", None)


def test_schedules_are_configurable_within_the_policy(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    listed = client.get("/api/retention/schedules", headers=admin).json()
    by_class = {row["record_class"]: row for row in listed}
    assert by_class["access_log"]["amount"] == 1 and by_class["access_log"]["unit"] == "months"
    changed = client.put(
        "/api/retention/schedules/recordings", json={"amount": 90, "unit": "days"}, headers=admin
    )
    assert changed.status_code == 200
    assert {r["record_class"]: r["amount"] for r in changed.json()}["recordings"] == 90
    too_long = client.put(
        "/api/retention/schedules/access_log", json={"amount": 2, "unit": "months"}, headers=admin
    )
    assert too_long.status_code == 422 and "at most 1 month" in too_long.text
    unknown = client.put(
        "/api/retention/schedules/everything", json={"amount": 2, "unit": "days"}, headers=admin
    )
    assert unknown.status_code == 422
    agent = staff.headers("agent", "ana")
    assert client.get("/api/retention/schedules", headers=agent).status_code == 403
    dry = client.post("/api/retention/run", json={}, headers=admin)
    assert dry.status_code == 200 and dry.json()["dry_run"] is True


def test_audit_months_are_purged_whole_and_the_rest_still_verifies(
    context: AppContext, client: TestClient, staff: StaffFactory, clock: ManualClock
) -> None:
    for month in range(6):
        clock.set(T0 + timedelta(days=31 * month))
        admin = staff.headers("admin", f"root{month}")
        assert client.get("/api/staff", headers=admin).status_code == 200
    clock.set(T0 + timedelta(days=31 * 6))
    admin = staff.headers("admin", "root")
    client.put(
        "/api/retention/schedules/audit", json={"amount": 3, "unit": "months"}, headers=admin
    )
    report = run_retention(context, audit.SYSTEM)
    assert report.counts["audit"] > 0
    with context.db() as session:
        oldest = session.scalar(sa.select(sa.func.min(AuditEntry.occurred_at)))
        assert oldest is not None and oldest >= datetime(2027, 2, 1, tzinfo=UTC)
        assert audit.verify(session).intact


def test_the_access_log_keeps_only_the_minimum(context: AppContext, client: TestClient) -> None:
    from services.app.factory import create_app

    with TestClient(
        create_app(context), base_url=str(client.base_url), client=("203.0.113.77", 40000)
    ) as from_v4:
        from_v4.get("/healthz?phone=3025550177")
        from_v4.get("/api/requests/SR-12345-67890")
    assert context.access_log is not None
    context.access_log.add(
        at=T0,
        method="GET",
        route="/healthz",
        status=200,
        duration_ms=1.2,
        client_host="2001:db8:1234:5678::9",
    )
    context.access_log.flush()
    with context.db() as session:
        rows = session.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id)).all()
    routes = {(row.method, row.route, row.status, row.client) for row in rows}
    assert ("GET", "/healthz", 200, "203.0.113.0/24") in routes
    assert ("GET", "/api/requests/{public_id}", 401, "203.0.113.0/24") in routes
    assert ("GET", "/healthz", 200, "2001:db8:1234::/48") in routes
    dumped = str([(row.route, row.client) for row in rows])
    assert "3025550177" not in dumped and "203.0.113.77" not in dumped and "SR-" not in dumped


def test_through_the_staff_api_only_a_dry_run_looks_ahead(
    context: AppContext, client: TestClient, twilio: TwilioClient, staff: StaffFactory
) -> None:
    place_call(twilio)
    admin = staff.headers("admin", "root")
    far = {"dry_run": False, "as_of": "2100-01-01T00:00:00Z"}
    refused = client.post("/api/retention/run", json=far, headers=admin)
    assert refused.status_code == 422 and "as_of" in refused.text
    assert count(context, CallEvent) == 2 and count(context, Call) == 1
    entry = audit_entry(context, AuditEntry.action == "retention.run")
    assert entry.outcome == "invalid" and entry.actor_name == "root"
    assert entry.detail["as_of_asked"].startswith("2100-01-01")
    looked = client.post("/api/retention/run", json={**far, "dry_run": True}, headers=admin)
    assert looked.status_code == 200 and looked.json()["counts"]["webhook_log"] == 2
    assert count(context, CallEvent) == 2
    now = client.post("/api/retention/run", json={"dry_run": False}, headers=admin)
    assert now.status_code == 200 and count(context, CallEvent) == 2  # not due yet


def test_no_run_destroys_the_month_in_progress_of_the_audit_trail(
    context: AppContext, client: TestClient, staff: StaffFactory, clock: ManualClock
) -> None:
    admin = staff.headers("admin", "root")
    for _ in range(3):
        assert client.get("/api/staff", headers=admin).status_code == 200
    before = audit_entries(context)
    # The operator's drill on the server, as if a century had passed.
    report = run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=36_500))
    assert report.counts["audit"] == 0
    after = audit_entries(context)
    assert [entry.seq for entry in after][: len(before)] == [entry.seq for entry in before]
    assert after[-1].action == "retention.run"  # the run itself stays on the record
    with context.db() as session:
        assert not session.scalars(sa.select(AuditSeal)).all()
        result = audit.verify(session)
    assert result.intact and result.checked == len(after)
    # Once the month is over and sealed, the drill may destroy it (and only it).
    clock.set(datetime(2027, 1, 5, tzinfo=UTC))
    report = run_retention(context, audit.SYSTEM, as_of=T0 + timedelta(days=36_500))
    assert report.counts["audit"] == len(after)
    remaining = audit_entries(context)
    assert remaining and all(
        entry.occurred_at >= datetime(2027, 1, 1, tzinfo=UTC) for entry in remaining
    )
