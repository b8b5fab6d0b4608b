"""The restore drill: back up a live database with `switchboard backup`, restore it into a
new database with `switchboard restore`, and check what an operator must be sure of: the
audit trail verifies, sealed fields open with the master key, and not with another."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.context import AppContext
from storage.crypto import MasterKeyError
from tests.conftest import POSTGRES_URL
from tests.support import JOSE, MASTER_KEY, cli_env, make_settings, running, served, switchboard

pytestmark = pytest.mark.slow


@pytest.fixture
def new_database_url(backend: str, database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind to restore into (a new PostgreSQL database on
    the same server, keeping the source's schema name)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'switchboard.db'}"
        return
    name = f"sb_restore_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    source = sa.make_url(database_url)
    yield source.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def file_request_with_contact(client: TestClient, headers: dict[str, str]) -> str:
    filed = client.post(
        "/api/requests",
        json={"service_code": "pothole", "description": "deep hole", "contact": JOSE},
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    return str(filed.json()["id"])


def test_a_backup_restores_into_a_new_database_that_verifies_and_opens_only_with_its_key(
    context: AppContext,
    client: TestClient,
    agent: dict[str, str],
    database_url: str,
    new_database_url: str,
    tmp_path: Path,
) -> None:
    request_id = file_request_with_contact(client, agent)
    backup = tmp_path / "switchboard.backup"
    source_env = cli_env(database_url, tmp_path / "var")
    made = switchboard(source_env, "backup", "--output", str(backup))
    assert made.returncode == 0, made.stderr
    assert backup.stat().st_size > 0 and (backup.stat().st_mode & 0o077) == 0
    # A backup never overwrites an earlier one.
    assert switchboard(source_env, "backup", "--output", str(backup)).returncode == 1

    # The blob store (recordings, the audit chain's signed checkpoints) is not in the
    # database backup: the restored database works against the same store.
    target_env = cli_env(
        new_database_url,
        tmp_path / "restored-var",
        blob_url=source_env["SWITCHBOARD_BLOB_URL"],
    )
    restored = switchboard(target_env, "restore", "--input", str(backup))
    assert restored.returncode == 0, restored.stderr
    verified = switchboard(target_env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # Restoring over a database that holds data is refused.
    again = switchboard(target_env, "restore", "--input", str(backup))
    assert again.returncode == 1 and "not empty" in again.stderr

    settings = make_settings(new_database_url, tmp_path / "restored-var")
    with running(settings) as restored_context, served(restored_context) as restored_client:
        found = restored_client.post(
            "/api/requests/search", json={"phone": JOSE["phone"]}, headers=agent
        )
        assert found.status_code == 200, found.text
        (item,) = found.json()["items"]
        assert str(item["id"]) == request_id
        assert item["contact"]["name"] == JOSE["name"]
        assert item["contact"]["email"].lower() == JOSE["email"].lower()

    other_key = base64.b64encode(os.urandom(32)).decode()
    assert other_key != MASTER_KEY
    wrong = make_settings(new_database_url, tmp_path / "wrong-var", master_key=other_key)
    with running(wrong) as wrong_context, served(wrong_context) as wrong_client:
        ready = wrong_client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["keys"] == "unavailable"
        with pytest.raises(MasterKeyError):
            wrong_client.post("/api/requests/search", json={"phone": JOSE["phone"]}, headers=agent)
