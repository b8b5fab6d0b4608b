"""The ``switchboard`` command as an operator uses it."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import cli_env, switchboard


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(database_url, tmp_path / "var")


def test_users_tokens_and_audit_verify(env: dict[str, str], database_url: str) -> None:
    assert switchboard(env, "db", "upgrade").returncode == 0
    added = switchboard(
        env,
        "users",
        "add",
        "Ana",
        "--role",
        "supervisor",
        "--password-stdin",
        stdin="twelve chars ok\n",
    )
    assert added.returncode == 0, added.stderr
    assert "ana (supervisor)" in added.stdout
    assert (
        switchboard(
            env,
            "users",
            "add",
            "ana",
            "--role",
            "agent",
            "--password-stdin",
            stdin="twelve chars ok\n",
        ).returncode
        == 2
    )
    weak = switchboard(
        env, "users", "add", "ben", "--role", "agent", "--password-stdin", stdin="short\n"
    )
    assert weak.returncode == 2 and "at least 12" in weak.stderr
    issued = switchboard(env, "tokens", "issue", "ana", "--days", "7")
    assert issued.returncode == 0
    assert issued.stdout.count("\n") == 1 and issued.stdout.startswith("sb_")
    assert switchboard(env, "tokens", "issue", "nobody").returncode == 2

    intact = switchboard(env, "audit", "verify")
    assert intact.returncode == 0, intact.stdout
    # The account and the token, and the refused duplicate name and unknown account (the
    # too-short password is refused before anything is tried, as the API refuses it).
    assert "intact: 4 entries" in intact.stdout

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        trail = connection.execute(
            sa.text("SELECT action, outcome, actor_name, detail FROM audit_log ORDER BY seq")
        ).all()
    assert [(action, outcome) for action, outcome, _, _ in trail] == [
        ("staff.create", "ok"),
        ("staff.create", "invalid"),
        ("token.issue", "ok"),
        ("token.issue", "not_found"),
    ]
    for _, _, actor_name, detail in trail:
        assert actor_name == "system"
        assert (json.loads(detail) if isinstance(detail, str) else detail)["via"] == "cli"
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 1"))
    engine.dispose()
    broken = switchboard(env, "audit", "verify")
    assert broken.returncode == 1
    assert "broken at entry 1" in broken.stdout


def test_bad_role_is_refused_by_the_parser(env: dict[str, str]) -> None:
    result = switchboard(env, "users", "add", "cai", "--role", "mayor")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_serve_says_so_when_another_program_holds_the_port(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'sb.db'}", tmp_path / "var")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = switchboard(env, "serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use by another program: stop it, or serve "
        "on another port with --port (and set SWITCHBOARD_PUBLIC_URL to match)"
    )
    assert not (tmp_path / "sb.db").exists()  # refused before it touched anything


def test_audit_verify_finds_the_newest_entries_cut_off_after_a_checkpoint(
    env: dict[str, str], database_url: str
) -> None:
    assert switchboard(env, "db", "upgrade").returncode == 0
    for name in ("ana", "ben", "cai"):
        assert switchboard(env, "users", "add", name, "--role", "agent").returncode == 0
    written = switchboard(env, "audit", "checkpoint")
    assert written.returncode == 0 and "at entry 3" in written.stdout
    assert switchboard(env, "audit", "verify").returncode == 0
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        tip = connection.execute(
            sa.text("SELECT entry_hash FROM audit_log WHERE seq = 1")
        ).scalar_one()
        connection.execute(sa.text("DELETE FROM audit_log WHERE seq > 1"))
        connection.execute(
            sa.text("UPDATE audit_chain_head SET seq = 1, entry_hash = :tip"), {"tip": tip}
        )
    engine.dispose()
    cut = switchboard(env, "audit", "verify")
    assert cut.returncode == 1
    assert "broken at entry 2" in cut.stdout and "checkpoint" in cut.stdout


@pytest.mark.parametrize(
    ("public_url", "port", "warned"),
    [
        ("http://127.0.0.1:8000", 8001, True),  # the default PUBLIC_URL, another --port
        ("http://localhost:8000", 8000, False),
        ("http://127.0.0.1:8000/", 8000, False),
        ("http://127.0.0.1", 80, False),
        ("https://311.example.gov", 8000, False),  # behind a proxy: differs on purpose
    ],
)
def test_serve_warns_when_a_local_public_url_names_another_port(
    public_url: str, port: int, warned: bool
) -> None:
    from services.app.cli import public_url_mismatch

    warning = public_url_mismatch(public_url, port)
    assert (warning is not None) == warned
    if warning:
        assert f"SWITCHBOARD_PUBLIC_URL=http://127.0.0.1:{port}" in warning
