"""Texts per second from booking to the carrier, with no duplicates under failures.

Books N appointments through the appointments service against the Twilio SDK talking to
the local fake Twilio (tests/fakes), with the real job queue's consumer sending. The fake
answers some sends with 429 or 500, and some it takes but answers too late (the client
times out not knowing). Baseline: the same SDK calling messages.create directly, from
the same number of threads, with no failures. Prints both rates, their ratio, and
checks that every appointment's confirmation reached the carrier exactly once.

    python -m benchmarks.sms_throughput [--appointments 300] [--threads 4] [--failures 0.1]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from benchmarks.backends import fresh_context
from benchmarks.scratch import Scratch, run
from services.appointments import service as appointments
from services.messaging.sending import due
from services.platform.context import AppContext
from services.platform.roles import Role
from services.requests import service as requests
from services.staff.service import create_user
from telephony.rest import TwilioAccount
from tests.fakes.twilio_api import FakeTwilio

ACCOUNT, TOKEN = "AC" + "2" * 32, "bench-token"


def baseline(fake: FakeTwilio, count: int, threads: int) -> float:
    client = TwilioAccount(ACCOUNT, TOKEN, api_base_url=fake.url).client
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(
            pool.map(
                lambda n: client.messages.create(
                    to=f"+1302555{n % 10_000:04d}", from_="+13025550100", body=f"baseline {n}"
                ),
                range(count),
            )
        )
    return count / (time.perf_counter() - started)


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appointments", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--failures", type=float, default=0.1, help="share of sends that fail once")
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=300,
        help="give up on confirmations still missing after this long",
    )
    args = parser.parse_args()
    fake = FakeTwilio(ACCOUNT, TOKEN)
    fake.start()
    try:
        measure(space, fake, args)
    finally:
        fake.stop()


def measure(space: Scratch, fake: FakeTwilio, args: argparse.Namespace) -> None:
    base = baseline(fake, args.appointments, args.threads)
    fake.reset()
    work = space.dir
    url = f"sqlite:///{work / 'sms.db'}"
    context = fresh_context(
        url,
        work,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_api_base_url=fake.url,
        twilio_from_number="+13025550100",
        sms_gateway="twilio",
        twilio_timeout_seconds=1.0,
        sms_rate_per_second=1000,
        sms_quiet_hours="00:00-00:01",
        sms_uncertain_after_seconds=2,
    )
    rng = random.Random(7)
    failures = ["429", "500", "accept-then-hang"]
    plan = [
        rng.choice(failures) if rng.random() < args.failures else "ok"
        for _ in range(args.appointments)
    ]
    fake.state["sms_next"] = list(plan)
    now = datetime.now(UTC)
    with context.db.begin() as session:
        agent = create_user(
            session, username="bench-agent", role=Role.AGENT, password=None, now=now
        ).id
        filed = [
            requests.create_request(
                session,
                context.keyring,
                requests.NewRequest(
                    service_code="bulk-pickup",
                    contact=requests.ContactDetails(phone=f"+1302555{n:04d}"),
                ),
                filed_by=None,
                now=now,
                region="US",
                duplicates=context.part(requests.DuplicatePolicy),
            ).public_id
            for n in range(args.appointments)
        ]
    context.jobs.start_consumer(workers=args.threads)
    try:
        elapsed = book_and_wait(context, fake, args, filed, agent, now)
    finally:
        context.jobs.stop_consumer()
        context.engine.dispose()
    report(space, fake, args, plan, base, elapsed)


def book_and_wait(
    context: AppContext,
    fake: FakeTwilio,
    args: argparse.Namespace,
    filed: list[str],
    agent: int,
    now: datetime,
) -> float:
    """Book every appointment, then wait until the carrier has every confirmation (or
    ``--wait-seconds`` passed); the seconds since the first booking."""
    started = time.perf_counter()
    for n, public_id in enumerate(filed):
        booking = appointments.Booking(
            public_id,
            now + timedelta(days=3),
            now + timedelta(days=3, hours=2),
            "Curb",
            f"+1302555{n:04d}",
            "en",
            None,
        )
        with context.db.begin() as session:
            _, queued = appointments.book(
                session,
                context.keyring,
                booking,
                booked_by=agent,
                now=datetime.now(UTC),
                policy=context.part(appointments.TextPolicy),
            )
        context.jobs.enqueue("sms.send", {"message_id": queued[0]})
    while time.perf_counter() - started < args.wait_seconds:
        confirmations = {
            m["to"] for m in fake.state.get("messages", []) if "is booked" in m["body"]
        }
        if len(confirmations) >= args.appointments:
            break
        time.sleep(0.5)
        # What the every-minute sweep does, more often here: lost answers are checked.
        with context.db() as session:
            stuck = due(session, now=datetime.now(UTC), stale_after=timedelta(seconds=2))
        for message_id in stuck:
            context.jobs.enqueue("sms.send", {"message_id": message_id})
    return time.perf_counter() - started


def report(
    space: Scratch,
    fake: FakeTwilio,
    args: argparse.Namespace,
    plan: list[str],
    base: float,
    elapsed: float,
) -> None:
    sent = Counter(m["to"] for m in fake.state.get("messages", []) if "is booked" in m["body"])
    duplicates = sum(count - 1 for count in sent.values() if count > 1)
    rate = len(sent) / elapsed
    print(f"baseline: the SDK's messages.create, {args.threads} threads  {base:7.1f} texts/s")
    print(f"switchboard: booking to carrier, {args.threads} workers {rate:7.1f} texts/s")
    print(f"ratio to baseline: {rate / base:.2f}")
    lost = plan.count("accept-then-hang")
    print(
        f"confirmations at the carrier: {len(sent)} of {args.appointments}; "
        f"duplicates: {duplicates}"
    )
    print(
        f"failures injected: {plan.count('429')} x 429, {plan.count('500')} x 500, "
        f"{lost} answers lost after the carrier took the text"
    )
    space.check(len(sent) == args.appointments, "every confirmation reached the carrier")
    space.check(duplicates == 0, "no confirmation reached the carrier twice")


if __name__ == "__main__":
    run("sms", main)
