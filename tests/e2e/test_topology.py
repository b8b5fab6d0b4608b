"""The production shape as one system, under the faults an operations team meets.

nginx (deploy/nginx, TLS) in front of two `switchboard serve` processes and two
`switchboard worker` processes, on PostgreSQL (through a relay the test can cut), a
private Redis (restarted empty), an S3 endpoint (moto's server, behind a relay) and the
fake Twilio. Webhooks are replayed with `switchboard simulate --retries` (Twilio
retries a failed webhook) plus recording callbacks and a text. Faults:

- kill -9 a web process mid-replay: no acknowledged webhook lost, nginx routes around it;
- SIGTERM a web process mid-replay: in-flight requests finish, it exits cleanly;
- kill -9 the only worker mid-recording and mid-text: both are redone within the job
  lease by another worker; the recording is stored and deleted at Twilio once, the text
  goes once;
- Redis restarted empty with jobs queued: every job is recovered from the database, once;
- S3 unreachable: recordings wait, nothing is deleted at Twilio, they resume after;
- PostgreSQL unreachable: webhooks get 503 at once, /readyz says so, all recovers.

At the end the database holds every acknowledged event, recording and text, each once,
and `switchboard audit verify` exits 0. SWITCHBOARD_TOPOLOGY_CALLS makes it longer
(`make bench` runs it with more calls).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.audio import call_recording
from tests.conftest import POSTGRES_URL, _postgres_or_skip
from tests.deploy_support import PrivateRedis, TcpProxy, render_nginx, tool
from tests.fakes.twilio_api import FakeTwilio
from tests.ports import free_port
from tests.support import (
    MASTER_KEY,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TwilioClient,
    call_sid,
    cli_env,
    recording_params,
    switchboard,
    wait_until,
)

pytestmark = [pytest.mark.topology, pytest.mark.slow]

CALLS = int(os.environ.get("SWITCHBOARD_TOPOLOGY_CALLS", "24"))
LEASE_SECONDS = 4
WAV = call_recording(6.0)


@dataclass
class Topology:
    tmp: Path
    env: dict[str, str]
    direct_url: str
    web_ports: list[int]
    public_url: str
    cert: Path
    fake: FakeTwilio
    redis: PrivateRedis
    database: TcpProxy
    s3: TcpProxy
    bucket: str
    webs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    workers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "services.app.cli", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_web(self, index: int) -> None:
        port = self.web_ports[index]
        self.webs[index] = self._spawn(f"web{index}", "serve", "--port", str(port))

    def wait_web(self, index: int) -> None:
        port, process = self.web_ports[index], self.webs[index]

        def ready() -> bool:
            assert process.poll() is None, (self.tmp / f"web{index}.log").read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(f"web process {index} is ready", ready)

    def start_worker(self, index: int) -> None:
        self.workers[index] = self._spawn(f"worker{index}", "worker", "--workers", "4")

    def stop(self, process: subprocess.Popen[bytes], sig: int) -> int:
        process.send_signal(sig)
        return process.wait(timeout=60)

    def client(self) -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(self.cert))
        return httpx.Client(base_url=self.public_url, verify=trust, timeout=30)

    def twilio(self, client: httpx.Client) -> TwilioClient:
        return TwilioClient(client, public_url=self.public_url)  # type: ignore[arg-type]

    def simulate(self, calls: int, seed: int, report: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "services.app.cli", "simulate", "--calls", str(calls),
             "--seed", str(seed), "--concurrency", "6", "--retries", "6", "--report", str(report)],
            env={**self.env, "SSL_CERT_FILE": str(self.cert)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip

    def query(self, statement: str, **params: Any) -> list[Any]:
        engine = sa.create_engine(self.direct_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(sa.text(statement), params).all())
        finally:
            engine.dispose()

    def recording_states(self, sids: list[str]) -> dict[str, str]:
        rows = self.query(
            "SELECT recording_sid, state FROM recordings WHERE recording_sid IN :sids".replace(
                ":sids", "(" + ",".join(f"'{sid}'" for sid in sids) + ")"
            )
        )
        return {row[0]: row[1] for row in rows}

    def jobs_waiting_to_retry(self, name: str, recording_sids: list[str]) -> bool:
        """Whether each recording's job ``name`` has been tried and is owed again (no
        worker holds it)."""
        rows = self.query(
            "SELECT payload, attempts FROM queued_jobs WHERE name = :name AND lease_until IS NULL",
            name=name,
        )
        tried = {row[0]["recording_sid"] for row in rows if row[1] >= 1}
        return set(recording_sids) <= tried

    def post_recording(self, twilio: TwilioClient, mode: str = "ok") -> str:
        sid, rsid = twilio.ring(), "RE" + secrets.token_hex(16)
        self.fake.holds_recording(rsid, WAV, mode)
        answer = twilio.post("/twilio/recordings", recording_params(sid, rsid, seconds=6))
        assert answer.status_code == 204, answer.text
        return rsid


@pytest.fixture
def topology(tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Topology]:
    nginx = tool("nginx", "/usr/sbin/nginx")
    tool("redis-server")
    _postgres_or_skip()
    from moto.server import ThreadedMotoServer

    # PostgreSQL: a schema of this test's own, reached through a relay it can cut.
    name = f"sb_topology_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    base = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={name}"})
    direct_url = base.render_as_string(hide_password=False)
    database = TcpProxy((base.host or "127.0.0.1", base.port or 5432))
    database.start()
    proxied_url = base.set(host="127.0.0.1", port=database.port).render_as_string(
        hide_password=False
    )

    redis = PrivateRedis(tmp_path)
    redis.start()
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    s3 = TcpProxy(("127.0.0.1", moto_port))
    s3.start()
    aws = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    import boto3

    bucket = "topology-" + secrets.token_hex(4)
    boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{moto_port}", **{
            "aws_access_key_id": "test", "aws_secret_access_key": "test",
            "region_name": "us-east-1"}
    ).create_bucket(Bucket=bucket)  # fmt: skip

    web_ports = [free_port(), free_port()]
    https_port, http_port = free_port(), free_port()
    conf = render_nginx(
        tmp_path / "nginx", web_ports=web_ports, https_port=https_port, http_port=http_port
    )
    public_url = f"https://127.0.0.1:{https_port}"
    env = {
        **cli_env(
            proxied_url,
            tmp_path / "var",
            public_url=public_url,
            twilio_account_sid=TEST_ACCOUNT_SID,
            twilio_auth_token=TEST_AUTH_TOKEN,
            twilio_api_base_url=fake_twilio.url,
            twilio_from_number="+13025550100",
            twilio_timeout_seconds="10",
            sms_gateway="twilio",
            sms_quiet_hours="00:00-00:00",
            sms_rate_per_second="100",
            sms_uncertain_after_seconds="3",
            queue_url=redis.url,
            blob_url=f"s3://{bucket}/311",
            s3_endpoint_url=f"http://127.0.0.1:{s3.port}",
            embedded_worker="false",
            job_lease_seconds=str(LEASE_SECONDS),
            business_hours="mon-sun 00:00-24:00",
            forwarded_allow_ips="127.0.0.1",
            log_level="INFO",
        ),
        **aws,
    }
    env["SWITCHBOARD_MASTER_KEY"] = MASTER_KEY
    upgraded = switchboard(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    topology = Topology(
        tmp=tmp_path,
        env=env,
        direct_url=direct_url,
        web_ports=web_ports,
        public_url=public_url,
        cert=tmp_path / "nginx" / "switchboard.crt",
        fake=fake_twilio,
        redis=redis,
        database=database,
        s3=s3,
        bucket=bucket,
    )
    proxy = subprocess.Popen(
        [nginx, "-p", str(tmp_path / "nginx"), "-c", str(conf), "-e",
         str(tmp_path / "nginx" / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for index in (0, 1):
            topology.start_web(index)
            topology.start_worker(index)
        added = switchboard(
            env, "users", "add", "ana", "--role", "agent", "--password-stdin",
            stdin="a long enough password\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        issued = switchboard(env, "tokens", "issue", "ana", "--days", "1")
        assert issued.returncode == 0, issued.stderr
        topology.token = issued.stdout.strip()
        for index in (0, 1):
            topology.wait_web(index)
        yield topology
    finally:
        for process in [*topology.webs.values(), *topology.workers.values()]:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        proxy.terminate()
        proxy.wait(timeout=30)
        database.cut()
        s3.cut()
        moto.stop()
        redis.stop()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def replay_with(topology: Topology, seed: int, fault: Callable[[], None]) -> list[dict[str, Any]]:
    """Run `switchboard simulate` through nginx, apply ``fault`` while it runs, and return
    the legs it had acknowledged (all of them: it retries like Twilio)."""
    report = topology.tmp / f"report-{seed}.json"
    running = topology.simulate(CALLS, seed, report)
    time.sleep(1.0)  # the replay is under way
    fault()
    output, _ = running.communicate(timeout=300)
    assert running.returncode == 0, output
    assert " 0 failed" in output, output
    legs: list[dict[str, Any]] = json.loads(report.read_text())
    return legs


def test_the_topology_survives_its_faults(topology: Topology) -> None:
    web_exits: list[int] = []

    # 1. kill -9 one web process while webhooks flow; nginx routes around it.
    first = replay_with(topology, 311, topology.webs[0].kill)
    topology.webs[0].wait(timeout=30)
    topology.start_web(0)
    topology.wait_web(0)

    # 2. SIGTERM the other mid-replay: in-flight requests finish, it exits cleanly.
    second = replay_with(
        topology, 312, lambda: web_exits.append(topology.stop(topology.webs[1], signal.SIGTERM))
    )
    # uvicorn re-raises the signal once it has shut down gracefully.
    assert web_exits[0] in (0, -signal.SIGTERM)
    assert "Application shutdown complete." in (topology.tmp / "web1.log").read_text()
    topology.start_web(1)
    topology.wait_web(1)

    acknowledged_recordings: list[str] = []
    with topology.client() as client:
        twilio = topology.twilio(client)
        headers = {"Authorization": f"Bearer {topology.token}"}

        # 3. kill -9 the only worker mid-recording and mid-text.
        assert topology.stop(topology.workers[1], signal.SIGINT) == 0
        slow = topology.post_recording(twilio, mode="slow")
        acknowledged_recordings.append(slow)
        filed = client.post(
            "/api/requests", json={"service_code": "pothole", "description": "deep"},
            headers=headers,
        )  # fmt: skip
        assert filed.status_code == 201, filed.text
        topology.fake.state["sms_next"] = ["accept-then-hang"]
        starts = datetime.now(UTC) + timedelta(days=3)
        booked = client.post(
            "/api/appointments",
            json={
                "request_id": filed.json()["id"],
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "location": "12 North Oak Street",
                "phone": "+13025550123",
                "consent": True,
            },
            headers=headers,
        )
        assert booked.status_code == 201, booked.text
        wait_until(
            "the worker is mid-download and mid-send",
            lambda: (
                any(r.path.endswith(f"{slow}.wav") for r in list(topology.fake.requests))
                and len(topology.fake.state.get("messages", [])) == 1
            ),
        )
        topology.workers[0].kill()
        topology.workers[0].wait(timeout=30)
        topology.start_worker(1)
        wait_until(
            "the recording cut off is redone",
            lambda: topology.recording_states([slow]).get(slow) == "done",
            seconds=90,
        )
        # The confirmation is due now (the reminder, days later, waits its turn).
        wait_until(
            "the text cut off is settled",
            lambda: (
                topology.query(
                    "SELECT state FROM text_messages WHERE not_before <= :now",
                    now=datetime.now(UTC),
                )
                == [("sent",)]
            ),
            seconds=90,
        )
        assert len(topology.fake.state["messages"]) == 1  # the carrier took it once

        # 4. Redis restarted empty with jobs queued and no worker running.
        assert topology.stop(topology.workers[1], signal.SIGINT) == 0
        queued = [topology.post_recording(twilio) for _ in range(3)]
        acknowledged_recordings.extend(queued)
        topology.redis.stop()
        while_down = topology.post_recording(twilio)  # acknowledged: owed in the database
        acknowledged_recordings.append(while_down)
        topology.redis.start()
        topology.start_worker(0)
        topology.start_worker(1)
        wait_until(
            "every job Redis lost is done",
            lambda: set(topology.recording_states([*queued, while_down]).values()) == {"done"},
            seconds=90,
        )

        # 5. S3 unreachable: recordings wait, Twilio keeps its copy, then they resume.
        topology.s3.cut()
        waiting = [topology.post_recording(twilio) for _ in range(2)]
        acknowledged_recordings.extend(waiting)
        # A recording's attempt is counted as it starts; the job released for a retry
        # is the sign that the attempt reached the store and failed.
        wait_until(
            "the workers tried the store and wait to retry",
            lambda: topology.jobs_waiting_to_retry("recordings.process", waiting),
        )
        assert set(topology.recording_states(waiting).values()) == {"pending"}
        assert not set(waiting) & set(topology.fake.state.get("deleted", []))
        topology.s3.start()
        wait_until(
            "the recordings resume once the store is back",
            lambda: set(topology.recording_states(waiting).values()) == {"done"},
            seconds=120,
        )

        # 6. PostgreSQL unreachable: 503 at once, /readyz says so, and all comes back.
        topology.database.cut()
        refused = twilio.post(
            "/twilio/voice/status",
            twilio.call_params(call_sid(), "completed", CallDuration="12"),
        )
        assert refused.status_code == 503, refused.text
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
        topology.database.start()
        wait_until("/readyz recovers", lambda: client.get("/readyz").status_code == 200)
        after = call_sid()
        assert twilio.post(
            "/twilio/voice/status", twilio.call_params(after, "completed", CallDuration="12")
        ).status_code in (200, 204)

        # The database holds what was acknowledged, each once.
        for leg in [*first, *second]:
            got = client.get(f"/api/calls/{leg['call_sid']}", headers=headers)
            assert got.status_code == 200, leg
            for name in ("status", "duration_seconds", "extension", "from_number"):
                assert got.json()[name] == leg[name], (name, leg, got.json())
        assert client.get(f"/api/calls/{after}", headers=headers).status_code == 200

    states = topology.recording_states(acknowledged_recordings)
    assert set(states) == set(acknowledged_recordings)
    assert set(states.values()) == {"done"}
    deleted = topology.fake.state.get("deleted", [])
    assert sorted(deleted) == sorted(set(deleted))  # none deleted at Twilio twice
    assert set(acknowledged_recordings) <= set(deleted)
    # Jobs the database cut interrupted are retried, not lost: in the end none is owed.
    wait_until(
        "every owed job is done",
        lambda: topology.query("SELECT count(*) FROM queued_jobs")[0][0] == 0,
        seconds=90,
    )
    verified = switchboard({**topology.env, "SWITCHBOARD_DATABASE_URL": topology.direct_url},
                           "audit", "verify")  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
