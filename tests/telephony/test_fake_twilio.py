"""The fake Twilio the tests and benchmarks send to answers each request from its own body.

Concurrent sends once came back with another request's number and text (a handler read
the last request recorded instead of its own), which the SMS benchmark counted as a
duplicate and a lost text.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.fakes.twilio_api import FakeTwilio
from tests.support import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

SENDS = 60


async def _send_all(fake: FakeTwilio, path: str, forms: list[dict[str, str]]) -> list[dict]:
    auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    async with httpx.AsyncClient(base_url=fake.url, auth=auth, timeout=30) as client:
        responses = await asyncio.gather(*(client.post(path, data=form) for form in forms))
    assert {response.status_code for response in responses} <= {200, 201}
    return [response.json() for response in responses]


def test_concurrent_texts_each_reach_the_carrier_once_with_their_own_body(
    fake_twilio: FakeTwilio,
) -> None:
    forms = [
        {"To": f"+1302555{n:04d}", "From": "+13025550100", "Body": f"text number {n}"}
        for n in range(SENDS)
    ]
    answers = asyncio.run(
        _send_all(fake_twilio, f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json", forms)
    )
    assert [(a["to"], a["body"]) for a in answers] == [(f["To"], f["Body"]) for f in forms]
    stored = sorted((m["to"], m["body"]) for m in fake_twilio.state["messages"])
    assert stored == sorted((f["To"], f["Body"]) for f in forms)


def test_concurrent_recording_updates_keep_their_own_status(fake_twilio: FakeTwilio) -> None:
    account = f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}"
    statuses = ["paused", "in-progress"]

    async def run() -> list[dict]:
        auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        async with httpx.AsyncClient(base_url=fake_twilio.url, auth=auth, timeout=30) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{account}/Calls/CA{n:032d}/Recordings/RE{n:032d}.json",
                        data={"Status": statuses[n % 2]},
                    )
                    for n in range(SENDS)
                )
            )
        return [response.json() for response in responses]

    answers = asyncio.run(run())
    assert [a["status"] for a in answers] == [statuses[n % 2] for n in range(SENDS)]
    updates = fake_twilio.state["recording_updates"]
    assert sorted((c, form["Status"]) for c, _r, form in updates) == sorted(
        (f"CA{n:032d}", statuses[n % 2]) for n in range(SENDS)
    )
