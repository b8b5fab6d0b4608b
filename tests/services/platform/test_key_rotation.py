"""Key rotation re-seals everything without downtime; re-wrapping moves to a new master key."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.calls.models import Call
from services.platform import key_rotation
from services.platform.context import AppContext
from services.platform.personal_data import Registry
from services.requests.models import RequestContact
from storage.crypto import Keyring, MasterKey
from storage.keystore import EncryptionKey
from tests.support import StaffFactory, TwilioClient, call_sid, cli_env, switchboard


def fill(
    twilio: TwilioClient, client: TestClient, headers: dict[str, str], count: int
) -> list[str]:
    ids = []
    for number in range(count):
        sid = call_sid()
        twilio.post(
            "/twilio/voice",
            twilio.call_params(sid, "ringing", From=f"+1302555{number:04d}", CallerName="ANA"),
        )
        body = {
            "service_code": "pothole",
            "call_sid": sid,
            "contact": {
                "name": f"Ana Number{number}",
                "phone": f"302555{number:04d}",
                "email": f"a{number}@example.org",
                "address": f"{number} Oak St",
            },
        }
        ids.append(client.post("/api/requests", json=body, headers=headers).json()["id"])
    return ids


def key_ids_in_use(context: AppContext) -> set[int]:
    with context.db() as session:
        values = list(session.scalars(sa.select(Call.from_sealed))) + list(
            session.scalars(sa.select(RequestContact.email_sealed))
        )
    return {Keyring.key_id_of(value) for value in values if value}


def test_rotation_reseals_everything_and_reads_work_throughout(
    twilio: TwilioClient, client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    agent = staff.headers("agent")
    ids = fill(twilio, client, agent, 6)
    (old_key,) = key_ids_in_use(context)
    with context.db.begin() as session:
        new_key = key_rotation.start_rotation(session, context.keyring, now=context.clock.now())
    # Mid-rotation: old values still open, new ones seal under the new key.
    context.keyring.forget()
    assert (
        client.post("/api/requests/search", json={"name": "Ana Number3"}, headers=agent).json()[
            "items"
        ][0]["id"]
        == ids[3]
    )
    extra = fill(twilio, client, agent, 1)
    assert key_ids_in_use(context) == {old_key, new_key}
    counts = key_rotation.reseal(context.db, context.keyring, context.part(Registry))
    assert counts["calls.from"] == 6 and counts["request_contacts.email"] == 6
    assert (
        key_rotation.values_under_retired_keys(context.db, context.keyring, context.part(Registry))
        == 0
    )
    with context.db.begin() as session:
        assert key_rotation.finish_rotation(session, now=context.clock.now()) == [old_key]
    assert key_ids_in_use(context) == {new_key}
    fresh = Keyring(context.keyring.master, context.db)  # another process, cold cache
    context.keyring = fresh  # type: ignore[misc]
    found = client.post(
        "/api/requests/search", json={"phone": "302-555-0002"}, headers=agent
    ).json()["items"]
    assert [item["id"] for item in found] == [ids[2]]
    assert (
        client.get(f"/api/requests/{extra[0]}", headers=agent).json()["contact"]["email"]
        == "a0@example.org"
    )
    with context.db() as session:
        old = session.get(EncryptionKey, old_key)
        assert old is not None and old.state == "destroyed" and old.wrapped_key is None


def test_rewrap_moves_every_key_under_a_new_master(
    twilio: TwilioClient, client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    ids = fill(twilio, client, staff.headers("agent"), 2)
    new_master = MasterKey(os.urandom(32))
    with context.db.begin() as session:
        assert (
            key_rotation.rewrap(session, context.keyring.master, new_master, context.part(Registry))
            == 2
        )  # data and index
    moved = Keyring(new_master, context.db)
    with context.db() as session:
        contact = session.scalars(sa.select(RequestContact).order_by(RequestContact.id)).first()
        assert contact is not None and contact.email_sealed is not None
        from storage.crypto import FieldContext

        assert (
            moved.open(contact.email_sealed, FieldContext("request_contacts", "email", ids[0]))
            == "a0@example.org"
        )


def test_the_cli_rotates_and_destroys_the_old_key(
    twilio: TwilioClient,
    client: TestClient,
    staff: StaffFactory,
    context: AppContext,
    database_url: str,
    tmp_path: Path,
) -> None:
    fill(twilio, client, staff.headers("agent"), 3)
    result = switchboard(cli_env(database_url, tmp_path), "keys", "rotate", "--settle-seconds", "0")
    assert result.returncode == 0, result.stderr
    # 3 calls x (caller, called, caller name) + 3 contacts x (name, phone, email, address)
    assert "re-sealed 21 values" in result.stdout
    with context.db() as session:
        states = dict(
            session.execute(
                sa.select(EncryptionKey.id, EncryptionKey.state).where(
                    EncryptionKey.purpose == "data"
                )
            ).all()
        )
    assert sorted(states.values()) == ["active", "destroyed"]
