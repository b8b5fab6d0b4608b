"""A news alert to many confirmed subscribers through a local SMTP sink.

Measures messages per second of the alert sender (the real job code: lease, windows of
progress committed before and after, sealed addresses opened, MIME built with headers
and both parts) against smtplib alone sending equivalent messages over one connection
to the same sink in the same run (target: at least 0.5). Then sends a second alert,
kills the worker (SIGKILL) part-way, resumes it, and counts duplicates at the sink
(must be 0) and the subscribers left uncertain by the kill (at most one window).
Peak memory is the worker process's maximum resident set.

    python -m benchmarks.alerts [--subscribers 100000] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import resource
import signal
import smtplib
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import insert, select

from benchmarks.scratch import Scratch, run
from tests.ports import free_port

MESSAGE_ID = re.compile(rb"^Message-ID: <(AL-[0-9A-Z-]+)\.(\d+)@", re.MULTILINE | re.IGNORECASE)
KEY = base64.b64encode(bytes(range(32))).decode()


class CountingSink:
    """Counts each (alert, subscriber) it receives, from the Message-ID. The server runs
    on its own thread: readers take ``len`` (atomic) while it runs, and iterate only
    once the worker has stopped."""

    def __init__(self) -> None:
        self.per_alert: dict[str, Counter[int]] = {}
        self.total = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.total += 1
        found = MESSAGE_ID.search(envelope.original_content)
        if found:
            self.per_alert.setdefault(found[1].decode(), Counter())[int(found[2])] += 1
        return "250 OK"

    def received(self, alert: str) -> int:
        """Distinct subscribers who got ``alert`` so far."""
        return len(self.per_alert.get(alert, ()))

    def of(self, alert: str) -> Counter[int]:
        return Counter(self.per_alert.get(alert, Counter()))


def settings_for(data: Path, smtp_url: str) -> Any:
    from services.platform.settings import Settings

    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{data / 'switchboard.db'}",
        data_dir=data,
        master_key=KEY,
        email_gateway="smtp",
        smtp_url=smtp_url,
        email_from="Bench 311 <311@bench.example.gov>",
        email_rate_per_second=10_000,
        embedded_worker=False,
        public_url="https://311.bench.example.gov",
    )


class OffsetClock:
    """The system clock moved on (a resumed worker need not wait out the dead one's lease)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def worker(data: Path, smtp_url: str, alert_id: int, offset_seconds: float) -> None:
    """The sending worker, in its own process (so it can be killed)."""
    from services.alerts.jobs import run_for
    from services.alerts.sending import Pace, send_alert
    from services.app.factory import build_context

    context = build_context(
        settings_for(data, smtp_url), clock=OffsetClock(timedelta(seconds=offset_seconds))
    )
    started = time.perf_counter()
    state = send_alert(run_for(context), alert_id, Pace(10_000_000))
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{state} {elapsed:.3f} {peak_kb}", flush=True)


def seed(data: Path, smtp_url: str, count: int) -> None:
    from services.alerts import service as alerts
    from services.alerts.models import AlertSubscriber
    from services.app.factory import bootstrap, build_context
    from storage import migrate

    settings = settings_for(data, smtp_url)
    migrate.upgrade(settings.database_url)
    context = build_context(settings)
    bootstrap(context)
    now = datetime.now(UTC)
    keyring = context.keyring
    for start in range(0, count, 5000):
        rows = []
        for n in range(start, min(count, start + 5000)):
            address = f"subscriber{n}@example.org"
            rows.append(
                {
                    "id": n + 1,
                    "email_sealed": keyring.seal(address, alerts.subscriber_place(n + 1)),
                    "email_index": keyring.blind_index("email", address),
                    "language": "es" if n % 5 == 0 else "en",
                    "signed_up_at": now,
                    "confirmed_at": now,
                }
            )
        with context.db.begin() as session:
            session.execute(insert(AlertSubscriber), rows)
    context.engine.dispose()


def new_alert(data: Path, smtp_url: str, subject: str) -> tuple[int, str]:
    from services.alerts import service as alerts
    from services.app.factory import build_context

    context = build_context(settings_for(data, smtp_url))
    with context.db.begin() as session:
        alert = alerts.create_alert(
            session,
            alerts.Draft(
                subject,
                "Put leaves at the curb by 7 am.\n\nBags must be paper.",
                "La recogida de hojas empieza el lunes",
                "Deje las hojas en la acera antes de las 7.",
            ),
            created_by=None,
            tracking=False,
            now=datetime.now(UTC),
        )
        found = (alert.id, alert.public_id)
    context.engine.dispose()
    return found


def counts_of(data: Path, smtp_url: str, alert_id: int) -> dict[str, int]:
    from services.alerts.models import Alert
    from services.app.factory import build_context

    context = build_context(settings_for(data, smtp_url))
    with context.db() as session:
        alert = session.scalars(select(Alert).where(Alert.id == alert_id)).one()
        found = {"sent": alert.sent, "uncertain": alert.uncertain, "failed": alert.failed}
    context.engine.dispose()
    return found


def baseline(port: int, count: int) -> float:
    """smtplib alone: equivalent messages (the same MIME classes, a text and an HTML part)
    over one connection, with nothing looked up, opened or recorded."""
    client = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for n in range(count):
        message = MIMEMultipart("alternative")
        message["From"] = "311@bench.example.gov"
        message["To"] = f"subscriber{n}@example.org"
        message["Subject"] = "Leaf collection starts Monday"
        message["Message-ID"] = f"<BASE-{n}@bench.example.gov>"
        message.attach(
            MIMEText("Put leaves at the curb by 7 am.\n\nBags must be paper.\n", "plain", "utf-8")
        )
        message.attach(MIMEText("<p>Put leaves at the curb by 7 am.</p>", "html", "utf-8"))
        client.send_message(message)
    elapsed = time.perf_counter() - started
    client.quit()
    return count / elapsed


def spawn(data: Path, smtp_url: str, alert_id: int, offset: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.alerts",
            "--worker",
            str(data),
            smtp_url,
            str(alert_id),
            str(offset),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="5,000 subscribers")
    parser.add_argument("--worker", nargs=4, metavar=("DATA", "SMTP", "ALERT", "OFFSET"))
    args = parser.parse_args()
    if args.worker:
        data, smtp_url, alert_id, offset = args.worker
        worker(Path(data), smtp_url, int(alert_id), float(offset))
        return
    count = 5_000 if args.quick else args.subscribers
    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_url = f"smtp://127.0.0.1:{port}"
    try:
        data = space.dir
        print(f"seeding {count} confirmed subscribers ...", flush=True)
        seed(data, smtp_url, count)

        base_rate = baseline(port, count)

        first_id, first_public = new_alert(data, smtp_url, "Leaf collection starts Monday")
        run = spawn(data, smtp_url, first_id)
        out, _ = run.communicate()
        state, elapsed, peak_kb = out.split()
        ours = sink.received(first_public) / float(elapsed)

        # A second alert, not the same one again (that would be refused within the hour).
        second_id, second_public = new_alert(data, smtp_url, "Leaf collection: week two")
        victim = spawn(data, smtp_url, second_id)
        while sink.received(second_public) < count // 3 and victim.poll() is None:
            time.sleep(0.01)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        at_kill = sink.received(second_public)
        resumed = spawn(data, smtp_url, second_id, offset=600)
        resumed.communicate()
        received = sink.of(second_public)
        duplicates = sum(n - 1 for n in received.values() if n > 1)
        counts = counts_of(data, smtp_url, second_id)
    finally:
        controller.stop()
    print(f"subscribers                 {count}")
    print(f"smtplib alone               {base_rate:8.0f} msgs/s")
    ratio = ours / base_rate
    print(f"alert sender ({state})        {ours:8.0f} msgs/s   ratio {ratio:.2f} (target >= 0.5)")
    print(f"worker peak memory          {int(peak_kb) / 1024:8.1f} MiB")
    print(f"killed after                {at_kill} messages; resumed to {len(received)} recipients")
    print(f"duplicates                  {duplicates}")
    print(f"uncertain (not resent)      {counts['uncertain']}   sent {counts['sent']}")
    space.check(duplicates == 0, f"{duplicates} subscribers got the alert twice")
    space.check(sink.received(first_public) == count, "the first alert did not reach everyone")


if __name__ == "__main__":
    if "--worker" in sys.argv:  # a sending worker the benchmark starts (and kills) in its space
        data, smtp_url, alert_id, offset = sys.argv[sys.argv.index("--worker") + 1 :][:4]
        worker(Path(data), smtp_url, int(alert_id), float(offset))
    else:
        run("alerts", main)
