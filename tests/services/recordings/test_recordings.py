"""QA recordings from Twilio's callback to playback: intake, the resumable pipeline,
encryption at rest, Range playback, pausing and per-extension settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.settings import Settings
from services.recordings import jobs as recording_jobs
from services.recordings.models import Recording
from services.recordings.service import RecordingPolicy
from services.recordings.source import MediaUnavailable
from services.staff.models import StaffUser
from tests.audio import call_recording
from tests.fakes.twilio_api import FakeTwilio
from tests.ports import free_port
from tests.support import (
    StaffFactory,
    TwilioClient,
    audit_entries,
    audit_entry,
    call_sid,
    make_settings,
    recording_params,
    served,
    wait_until,
)

WAV = call_recording(12.0)


def recording_sid() -> str:
    return "RE" + call_sid()[2:]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Settings:
    """The app of these tests fetches recordings from the fake Twilio, and the tests run
    each attempt of the job themselves."""
    return make_settings(
        database_url,
        tmp_path / "var",
        twilio_api_base_url=fake_twilio.url,
        twilio_timeout_seconds=1.5,
        recording_max_attempts=3,
        embedded_worker=False,
    )


def callback(
    twilio: TwilioClient, rsid: str, sid: str, status: str, *, kind: str = "", **extra: str
) -> Any:
    params = recording_params(sid, rsid, status=status) | extra
    return twilio.post("/twilio/recordings" + (f"?kind={kind}" if kind else ""), params)


def recording(context: AppContext, rsid: str) -> Recording:
    with context.db() as session:
        found = session.scalars(sa.select(Recording).where(Recording.recording_sid == rsid)).one()
        session.expunge(found)
        return found


def completed(twilio: TwilioClient, fake: FakeTwilio, mode: Any = "ok") -> tuple[str, str]:
    rsid, sid = recording_sid(), call_sid()
    twilio.ring(sid)
    twilio.press(sid, "3")
    fake.holds_recording(rsid, WAV, mode)
    assert callback(twilio, rsid, sid, "completed").status_code == 204
    return rsid, sid


def run_job(context: AppContext, rsid: str) -> None:
    recording_jobs.process_recording(context, {"recording_sid": rsid})


def test_callbacks_are_logged_and_never_go_backwards(
    twilio: TwilioClient, context: AppContext
) -> None:
    rsid, sid = recording_sid(), call_sid()
    twilio.ring(sid)
    twilio.press(sid, "2")
    assert callback(twilio, rsid, sid, "in-progress").status_code == 204
    assert recording(context, rsid).state == "logged"
    for _ in range(2):
        assert callback(twilio, rsid, sid, "completed").status_code == 204
    assert callback(twilio, rsid, sid, "in-progress").status_code == 204  # late, out of order
    found = recording(context, rsid)
    assert (found.twilio_status, found.state, found.extension, found.channels) == (
        "completed",
        "pending",
        "2",
        2,
    )
    absent = recording_sid()
    callback(twilio, absent, sid, "absent", ErrorCode="13617", RecordingDuration="0")
    assert (recording(context, absent).state, recording(context, absent).error_code) == (
        "absent",
        "13617",
    )
    assert callback(twilio, "RE-nope", sid, "completed").status_code == 400
    assert (
        twilio.post("/twilio/recordings", {"RecordingSid": rsid}, unsigned=True).status_code == 403
    )


def test_the_pipeline_stores_an_encrypted_compressed_copy_then_deletes_twilios(
    twilio: TwilioClient, context: AppContext, fake_twilio: FakeTwilio, staff: StaffFactory
) -> None:
    rsid, _ = completed(twilio, fake_twilio)
    run_job(context, rsid)
    found = recording(context, rsid)
    assert found.state == "done" and found.twilio_deleted_at is not None
    assert fake_twilio.state["deleted"] == [rsid]
    assert (
        found.original_bytes and found.audio_bytes and found.original_bytes / found.audio_bytes >= 8
    )
    assert found.duration_seconds == pytest.approx(10.0, abs=0.1)
    assert found.caller_talk_seconds == pytest.approx(3.0, abs=0.2)
    assert found.agent_talk_seconds == pytest.approx(5.7, abs=0.2)
    blob = context.blobs.get(str(found.blob_key))
    assert b"OggS" not in blob and b"OpusHead" not in blob  # encrypted at rest
    headers = staff.headers("supervisor", "sam")
    audio = twilio.client.get(f"/api/recordings/{rsid}/audio", headers=headers)
    assert audio.status_code == 200 and audio.content.startswith(b"OggS")
    assert audio.headers["accept-ranges"] == "bytes" and len(audio.content) == found.audio_bytes
    detail = twilio.client.get(f"/api/recordings/{rsid}", headers=headers).json()
    assert detail["playable"] and detail["compression_ratio"] >= 8
    assert (
        set(detail["activity"]) == {"caller", "agent"} and max(detail["activity"]["agent"]) == 100
    )


def test_a_failing_download_is_retried_and_resumes(
    twilio: TwilioClient, context: AppContext, fake_twilio: FakeTwilio
) -> None:
    rsid, _ = completed(twilio, fake_twilio, mode=["500", "truncated", "ok"])
    for _ in range(2):
        with pytest.raises(MediaUnavailable):
            run_job(context, rsid)
        assert recording(context, rsid).state == "pending"
    run_job(context, rsid)
    assert (recording(context, rsid).state, recording(context, rsid).attempts) == (
        "done",
        3,
    )


def test_a_download_that_keeps_failing_is_marked_failed_and_twilio_keeps_its_copy(
    twilio: TwilioClient, context: AppContext, fake_twilio: FakeTwilio, staff: StaffFactory
) -> None:
    rsid, _ = completed(twilio, fake_twilio, mode="slow")
    for _ in range(2):
        with pytest.raises(MediaUnavailable):
            run_job(context, rsid)
    run_job(context, rsid)  # the third and last attempt gives up
    found = recording(context, rsid)
    assert found.state == "failed" and "gave up after 3 attempts" in (found.failure or "")
    assert "deleted" not in fake_twilio.state
    listed = twilio.client.get(
        "/api/recordings", params={"state": "failed"}, headers=staff.headers("supervisor")
    ).json()
    assert [(item["recording_sid"], item["playable"]) for item in listed["items"]] == [
        (rsid, False)
    ]


def test_media_that_is_not_a_recording_fails_at_once(
    twilio: TwilioClient, context: AppContext, fake_twilio: FakeTwilio
) -> None:
    rsid, _ = completed(twilio, fake_twilio)
    fake_twilio.state["media"][rsid]["wav"] = b"<html>not audio</html>"
    run_job(context, rsid)
    assert recording(context, rsid).state == "failed"
    assert "unusable media" in (recording(context, rsid).failure or "")


def test_twilios_copy_is_deleted_only_after_ours_is_verified_and_a_crash_resumes_there(
    twilio: TwilioClient,
    context: AppContext,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rsid, _ = completed(twilio, fake_twilio)
    source = context.part(RecordingPolicy).source
    assert source is not None
    real_delete = source.delete

    def crash(_sid: str) -> None:
        raise MediaUnavailable("the process died here")

    monkeypatch.setattr(source, "delete", crash)
    with pytest.raises(MediaUnavailable):
        run_job(context, rsid)
    assert recording(context, rsid).state == "verified"
    fake_twilio.state["media"][rsid]["mode"] = "404"  # the next attempt must not need the media
    monkeypatch.setattr(source, "delete", real_delete)
    run_job(context, rsid)
    assert recording(context, rsid).state == "done" and fake_twilio.state["deleted"] == [rsid]


def test_keeping_twilios_copy_is_a_setting(
    context_with: Callable[..., AppContext], fake_twilio: FakeTwilio
) -> None:
    context = context_with(twilio_api_base_url=fake_twilio.url, delete_twilio_recordings=False)
    with served(context) as client:
        rsid, _ = completed(TwilioClient(client), fake_twilio)
        run_job(context, rsid)
    assert recording(context, rsid).state == "done" and "deleted" not in fake_twilio.state


def test_playback_seeks_with_ranges_and_is_audited(
    twilio: TwilioClient, context: AppContext, fake_twilio: FakeTwilio, staff: StaffFactory
) -> None:
    rsid, _ = completed(twilio, fake_twilio)
    run_job(context, rsid)
    headers = staff.headers("supervisor", "sam")
    url = f"/api/recordings/{rsid}/audio"
    full = twilio.client.get(url, headers=headers).content
    total = len(full)
    cases = {
        "bytes=0-99": (0, 99),
        f"bytes={total // 2}-": (total // 2, total - 1),
        "bytes=-50": (total - 50, total - 1),
        f"bytes=10-{total + 500}": (10, total - 1),
    }
    for header, (start, end) in cases.items():
        response = twilio.client.get(url, headers={**headers, "Range": header})
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {start}-{end}/{total}"
        assert response.content == full[start : end + 1]
    beyond = twilio.client.get(url, headers={**headers, "Range": f"bytes={total}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{total}"
    assert twilio.client.get(url, headers={**headers, "Range": "bytes=0-1,5-6"}).status_code == 200
    saved = twilio.client.get(url, params={"download": "true"}, headers=headers)
    assert saved.headers["content-disposition"].startswith("attachment")
    assert twilio.client.get(url, headers=staff.headers("agent")).status_code == 403
    assert twilio.client.get(url, headers=staff.headers("privacy_officer")).status_code == 403
    missing = "RE" + "0" * 32
    assert twilio.client.get(f"/api/recordings/{missing}/audio", headers=headers).status_code == 404
    entries = [(e.action, e.outcome) for e in audit_entries(context, AuditEntry.object_id == rsid)]
    miss = [(e.action, e.outcome) for e in audit_entries(context, AuditEntry.object_id == missing)]
    # the full file, four ranges and the multi-range request; the 416 served nothing and
    # is audited as the refusal it was
    assert entries.count(("recording.play", "ok")) == 6
    assert entries.count(("recording.play", "invalid")) == 1
    assert entries.count(("recording.download", "ok")) == 1
    assert miss == [("recording.play", "not_found")]


def test_a_range_under_if_range_is_served_only_for_the_same_audio(
    twilio: TwilioClient, context: AppContext, fake_twilio: FakeTwilio, staff: StaffFactory
) -> None:
    """A player resuming a download sends If-Range with the validator it saw: the range
    is served only if the audio is still that one; otherwise the whole file comes back."""
    rsid, _ = completed(twilio, fake_twilio)
    run_job(context, rsid)
    headers = staff.headers("supervisor", "sam")
    url = f"/api/recordings/{rsid}/audio"
    full = twilio.client.get(url, headers=headers)
    etag = full.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    same = twilio.client.get(url, headers={**headers, "Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.content == full.content[:10]
    for stale in ('"not-this-audio"', f"W/{etag}", "Wed, 18 Nov 2026 15:00:00 GMT"):
        answer = twilio.client.get(
            url, headers={**headers, "Range": "bytes=0-9", "If-Range": stale}
        )
        assert answer.status_code == 200, stale
        assert answer.content == full.content and "content-range" not in answer.headers


def test_agents_pause_and_resume_recording_on_a_live_call(
    twilio: TwilioClient, fake_twilio: FakeTwilio, staff: StaffFactory
) -> None:
    sid = call_sid()
    headers = staff.headers("agent", "ana")
    for action, status in (("pause", "paused"), ("resume", "in-progress")):
        response = twilio.client.post(
            f"/api/calls/{sid}/recording", json={"action": action}, headers=headers
        )
        assert response.status_code == 204
        call, recording_ref, form = fake_twilio.state["recording_updates"][-1]
        assert (call, recording_ref, form["Status"]) == (sid, "Twilio.CURRENT", status)
    assert fake_twilio.state["recording_updates"][0][2]["PauseBehavior"] == "skip"


class RefusingSource:
    """Twilio's recording side, answering every pause with a failure."""

    def download(self, media_url: str) -> bytes:
        raise MediaUnavailable("not in this test")

    def delete(self, recording_sid: str) -> None:
        raise MediaUnavailable("not in this test")

    def set_paused(self, call_sid: str, paused: bool) -> None:
        raise MediaUnavailable("Twilio answered 500")


def test_a_pause_twilio_refuses_or_cannot_take_is_audited(
    client: TestClient, context: AppContext, staff: StaffFactory
) -> None:
    headers = staff.headers("agent", "ana")
    policy = context.part(RecordingPolicy)
    outcomes = {}
    for status, source in ((502, RefusingSource()), (503, None)):
        context.parts.replace(replace(policy, source=source))
        sid = call_sid()
        response = client.post(
            f"/api/calls/{sid}/recording", json={"action": "pause"}, headers=headers
        )
        assert response.status_code == status
        entry = audit_entry(context, AuditEntry.object_id == sid)
        outcomes[status] = (entry.action, entry.outcome, entry.detail)
    assert outcomes == {
        502: ("recording.pause", "failed", {"status": 502}),
        503: ("recording.pause", "failed", {"status": 503}),
    }


def test_recording_is_set_per_extension(twilio: TwilioClient, staff: StaffFactory) -> None:
    admin = staff.headers("admin", "root")
    changed = twilio.client.patch("/api/extensions/4", json={"record_calls": False}, headers=admin)
    assert changed.json()["record_calls"] is False
    sid = twilio.ring()
    dial = twilio.press(sid, "4")
    assert 'record="do-not-record"' in dial.text and "recordingStatusCallback" not in dial.text
    other = twilio.press(call_sid(), "3")
    assert 'record="record-from-answer-dual"' in other.text


def test_from_callback_to_playable_through_the_job_queue(
    context_with: Callable[..., AppContext], fake_twilio: FakeTwilio
) -> None:
    """The embedded queue's own consumer picks the recording up, as in production."""
    context = context_with(twilio_api_base_url=fake_twilio.url, embedded_worker=True)
    with served(context) as client:
        rsid, _ = completed(TwilioClient(client), fake_twilio)
        wait_until("the recording is stored", lambda: recording(context, rsid).state == "done")
    assert recording(context, rsid).state == "done"


def test_a_completed_recording_is_owed_with_its_callback_when_the_queue_is_down(
    context_with: Callable[..., AppContext], fake_twilio: FakeTwilio
) -> None:
    """The job is written in the callback's own transaction (the outbox): with Redis
    unreachable the callback is still acknowledged, and a worker that comes up later
    finds the job in the database and stores the recording once."""
    closed = free_port()
    down = context_with(
        twilio_api_base_url=fake_twilio.url, queue_url=f"redis://127.0.0.1:{closed}/0"
    )
    with served(down) as client:
        rsid, _ = completed(TwilioClient(client), fake_twilio)
        # Twilio's retry of the same callback owes nothing more.
        retry = callback(TwilioClient(client), rsid, recording(down, rsid).call_sid, "completed")
        assert retry.status_code == 204
    assert down.jobs.ledger is not None
    assert down.jobs.ledger.owed()[0] == 1
    up = context_with(twilio_api_base_url=fake_twilio.url, job_lease_seconds=1.0)
    assert up.jobs.ledger is not None
    wait_until("the sweep pushes the owed job", lambda: up.jobs.sweep() > 0, seconds=10)
    up.jobs.start_consumer()
    try:
        wait_until("the recording is stored", lambda: recording(up, rsid).state == "done")
    finally:
        up.jobs.stop_consumer()
    assert recording(up, rsid).state == "done"
    assert up.jobs.ledger.owed()[0] == 0
    assert fake_twilio.state["deleted"].count(rsid) == 1


def test_a_missing_ffmpeg_is_reported_at_start(
    context_with: Callable[..., AppContext], caplog: pytest.LogCaptureFixture
) -> None:
    with served(context_with(ffmpeg_path="/nonexistent/ffmpeg")) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["ffmpeg"] == "unavailable"
    assert any(
        "recordings cannot be processed: ffmpeg cannot be run" in r.getMessage()
        for r in caplog.records
    )


def test_recordings_on_s3_compatible_storage(
    context_with: Callable[..., AppContext],
    tmp_path: Path,
    fake_twilio: FakeTwilio,
    s3_endpoint: str,
    s3_credentials: None,
) -> None:
    import boto3

    bucket = "rec-" + tmp_path.name.lower().replace("_", "-")[-40:]
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    context = context_with(
        twilio_api_base_url=fake_twilio.url,
        embedded_worker=False,
        blob_url=f"s3://{bucket}/311",
        s3_endpoint_url=s3_endpoint,
    )
    with served(context) as client:
        rsid, _ = completed(TwilioClient(client), fake_twilio)
        run_job(context, rsid)
        headers = StaffFactory(context).headers("supervisor", "sam")
        audio = client.get(
            f"/api/recordings/{rsid}/audio", headers={**headers, "Range": "bytes=0-3"}
        )
    assert (audio.status_code, audio.content) == (206, b"OggS")
    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=bucket)[
            "Contents"
        ]
    ]
    # The bucket holds the recording and, beside it, the audit chain's signed checkpoints.
    assert [key for key in keys if not key.startswith("311/audit/")] == [
        f"311/recordings/2026/11/{rsid}.sbm"
    ]
    assert any(key.startswith("311/audit/checkpoints/") for key in keys)


def test_a_recording_with_its_agent_named_reads_back_at_once(
    twilio: TwilioClient, context: AppContext, fake_twilio: FakeTwilio, staff: StaffFactory
) -> None:
    """Once an evaluation names the agent, the recording's page and list still answer at
    once: the agent's name is read in the same transaction (on SQLite a second one waited
    for the write lock until it timed out)."""
    rsid, _ = completed(twilio, fake_twilio)
    run_job(context, rsid)
    headers = staff.headers("supervisor", "sam")
    staff.token("agent", "ana")
    with context.db.begin() as session:
        agent_id = session.scalar(sa.select(StaffUser.id).where(StaffUser.username == "ana"))
        session.execute(
            sa.update(Recording).where(Recording.recording_sid == rsid).values(agent_id=agent_id)
        )
    started = time.monotonic()
    one = twilio.client.get(f"/api/recordings/{rsid}", headers=headers)
    listed = twilio.client.get("/api/recordings", headers=headers)
    assert time.monotonic() - started < 5
    assert one.status_code == 200 and one.json()["agent"] == "ana"
    assert listed.json()["items"][0]["agent"] == "ana"
