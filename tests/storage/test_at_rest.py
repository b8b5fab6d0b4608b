"""Reading the database file, or a dump of it, shows none of the plain personal values."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.context import AppContext
from tests.support import StaffFactory, TwilioClient, call_sid

SECRETS = {
    "name": "Philippa Quintanilla-Oyelaran",
    "phone": "+13025550188",
    "email": "philippa.q.oyelaran@example.org",
    "address": "1729 Hardy Ramanujan Boulevard",
    "caller name": "PHILIPPA QUINTANILLA",
}


def needles() -> list[bytes]:
    values = [
        SECRETS["name"],
        "Quintanilla",
        "Oyelaran",
        "quintanilla",
        SECRETS["email"],
        "oyelaran@example",
        SECRETS["address"],
        "Ramanujan",
        "ramanujan",
        "3025550188",
        "555-0188",
        SECRETS["caller name"],
    ]
    found = []
    for value in values:
        found += [value.encode("utf-8"), value.encode("utf-16-le")]
    return found


def write_known_values(twilio: TwilioClient, client: TestClient, staff: StaffFactory) -> None:
    sid = call_sid()
    twilio.post(
        "/twilio/voice",
        twilio.call_params(
            sid, "ringing", From=SECRETS["phone"], CallerName=SECRETS["caller name"]
        ),
    )
    response = client.post(
        "/api/requests",
        json={
            "service_code": "bulk-pickup",
            "description": "Old sofa at the curb",
            "call_sid": sid,
            "contact": {k: SECRETS[k] for k in ("name", "phone", "email", "address")},
        },
        headers=staff.headers("agent"),
    )
    assert response.status_code == 201
    # The values are really there, and readable through the service.
    assert response.json()["contact"]["email"] == SECRETS["email"]


def stored_bytes(backend: str, context: AppContext) -> bytes:
    """What someone with the database file, or a backup of it, would hold."""
    if backend == "sqlite":
        # The main file and its write-ahead log together hold every committed byte.
        database = Path(str(context.engine.url.database))
        return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is needed to check a PostgreSQL backup")
    url = context.engine.url
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    command = [
        pg_dump,
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
        "-n",
        schema,
        url.database or "test",
    ]
    return subprocess.run(command, capture_output=True, check=True, timeout=120).stdout


def test_stored_bytes_show_no_plain_value(
    backend: str, twilio: TwilioClient, client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    write_known_values(twilio, client, staff)
    raw = stored_bytes(backend, context)
    assert b"Old sofa at the curb" in raw  # the check does see plain text where there is some
    assert [needle for needle in needles() if needle in raw] == []
    with context.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM request_contacts")).scalar() == 1
