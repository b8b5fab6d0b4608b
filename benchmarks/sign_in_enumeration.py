"""Does a failed sign-in tell real usernames from unknown ones by its time?

Builds the app on a fresh SQLite database, adds real accounts, then signs in through the
same action the API calls, with wrong passwords, for real and unknown names alike (each
name tried from its own network, so the network throttle never steps in): the first
failures, and the attempt after the lockout. Prints the median time of each and the
ratios, which should be close to 1.

    python -m benchmarks.sign_in_enumeration [--names 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.backends import fresh_context
from benchmarks.scratch import Scratch, run
from services.platform.context import AppContext
from services.platform.errors import Problem
from services.platform.roles import Role
from services.staff import actions
from services.staff import service as accounts
from services.staff.schemas import SignIn


def _attempt(context: AppContext, name: str, network: str) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        actions.sign_in(
            context,
            SignIn(username=name, password="not the password at all"),
            client_network=network,
            request_id=None,
        )
        status = 201
    except Problem as refused:
        status = refused.status
    return time.perf_counter() - started, status


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=20)
    args = parser.parse_args()
    folder = space.dir  # removed on every exit, signals included
    url = f"sqlite:///{Path(folder) / 'bench.db'}"
    context = fresh_context(
        url, Path(folder), blob_url=f"file://{Path(folder) / 'blobs'}", embedded_worker=False
    )
    with context.db.begin() as session:
        for number in range(args.names):
            accounts.create_user(
                session,
                username=f"real{number}",
                role=Role.AGENT,
                password="correct horse battery staple",
                now=context.clock.now(),
            )
    times: dict[tuple[str, str], list[float]] = {}
    statuses: dict[tuple[str, str], set[int]] = {}
    for number in range(args.names):
        for kind in ("real", "unknown"):
            name = f"{kind}{number}"
            network = f"10.{number}.{0 if kind == 'real' else 1}.0/24"
            for attempt in range(6):
                phase = "locked" if attempt == 5 else "failure"
                elapsed, status = _attempt(context, name, network)
                times.setdefault((kind, phase), []).append(elapsed)
                statuses.setdefault((kind, phase), set()).add(status)
    for phase in ("failure", "locked"):
        real = statistics.median(times[("real", phase)]) * 1000
        unknown = statistics.median(times[("unknown", phase)]) * 1000
        print(
            f"{phase:<8} real {real:7.2f} ms {sorted(statuses[('real', phase)])}  "
            f"unknown {unknown:7.2f} ms {sorted(statuses[('unknown', phase)])}  "
            f"ratio {unknown / real:.2f}"
        )
    context.engine.dispose()


if __name__ == "__main__":
    run("sign-in", main)
