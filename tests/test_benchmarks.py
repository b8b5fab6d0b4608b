"""Benchmarks leave nothing behind however they end, and fail when their own checks do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from benchmarks.scratch import POSTGRES_URL, Scratch, run
from benchmarks.search_data import bulk_load, person, plain, public_id_of
from services.calls import service as calls_service
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.requests import service as requests_service
from services.requests.models import ServiceRequest
from storage.db import reading

ROOT = Path(__file__).parents[1]
pytestmark = pytest.mark.slow


def processes_using(path: Path) -> list[str]:
    """Command lines of this user's processes whose environment names ``path``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if str(path).encode() in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone, or another user's
            continue
    return found


def schema_exists(name: str) -> bool:
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = :name"),
                    {"name": name},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def benchmark(name: str, *args: str, temp: Path) -> subprocess.Popen[str]:
    """``python -m benchmarks.NAME ARGS`` started with its scratch space under ``temp``,
    its output (both streams) to be read line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", f"benchmarks.{name}", *args],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(
    name: str, *args: str, temp: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks.NAME ARGS`` run to its end, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *args],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_benchmark_stopped_midway_leaves_no_files_schemas_or_servers(
    tmp_path: Path, stop: signal.Signals
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    # Far more requests than it will send before the signal: it is stopped while measuring.
    process = benchmark("webhook_ingest", "--requests", "500000", temp=temp)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        schema = first.split()[2] if first.startswith("PostgreSQL schema") else None
        if os.environ.get("CI") == "true":
            assert schema, first
        assert any(temp.iterdir())
        deadline = time.monotonic() + 120
        # Stop it once the server it measures is up and being driven.
        while not any("bare_app" in line for line in processes_using(temp)):
            assert process.poll() is None and time.monotonic() < deadline, first
            time.sleep(0.2)
        time.sleep(2)
        process.send_signal(stop)
        output = first + process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + stop, output
    assert list(temp.iterdir()) == [], output
    assert processes_using(temp) == []
    if schema:
        assert not schema_exists(schema)


def test_a_failed_check_makes_the_benchmark_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def benchmark(space: Scratch) -> None:
        (space.dir / "data").write_text("x")
        space.check(True, "this one holds")
        space.check(False, "every text reached the carrier")

    with pytest.raises(SystemExit) as exited:
        run("unit", benchmark)
    assert exited.value.code == 1
    assert "CHECK FAILED: every text reached the carrier" in capsys.readouterr().out


def test_the_sms_benchmark_exits_1_when_texts_are_missing(tmp_path: Path) -> None:
    """Given no time to wait for the carrier, its confirmations are not all there."""
    result = finished(
        "sms_throughput",
        "--appointments",
        "6",
        "--failures",
        "1",
        "--wait-seconds",
        "0",
        temp=tmp_path,
    )
    assert result.returncode == 1, result.stdout
    assert "CHECK FAILED: every confirmation reached the carrier" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def loading(context: AppContext) -> Iterator[AppContext]:
    """The test database, with the benchmark's plain side tables dropped afterwards (the
    database's other tests, migrations' among them, expect the application's tables only)."""
    yield context
    plain.drop_all(context.engine)


def test_a_bulk_loaded_request_is_found_and_opened_as_one_filed_through_the_service(
    loading: AppContext, clock: ManualClock
) -> None:
    context = loading
    report = bulk_load(context, 30, 30, batch=7)
    assert (report.requests, report.calls) == (30, 30)
    who = person(7)
    keyring = context.keyring
    with context.db.begin() as session:
        filed = requests_service.create_request(
            session,
            keyring,
            requests_service.NewRequest(
                "pothole", contact=requests_service.ContactDetails(*astuple(who))
            ),
            filed_by=None,
            now=clock.now(),
            region=context.region,
            duplicates=requests_service.DuplicatePolicy(),
        )
        filed_id = filed.public_id
    loaded_id = public_id_of(7)
    expected = requests_service.ContactView(who.name, who.phone, who.email, who.address)
    for kind in ("phone", "email", "name", "address"):
        with reading(context.db) as session:
            found = requests_service.search_requests(
                session,
                keyring,
                requests_service.SearchKey(kind, getattr(who, kind)),
                region=context.region,
            )
            views = {r.public_id: requests_service.contact_view(keyring, r) for r in found}
        assert views[filed_id] == views[loaded_id] == expected, kind
        if kind != "name":  # another of the thirty may share a name, never the others
            assert set(views) == {filed_id, loaded_id}, kind
    with reading(context.db) as session:
        contacts = {
            r.public_id: r.contact
            for r in session.scalars(
                sa.select(ServiceRequest)
                .where(ServiceRequest.public_id.in_([filed_id, loaded_id]))
                .options(selectinload(ServiceRequest.contact))
            )
        }
        # Blind indexes are the same bytes; sealed values differ only by their nonce.
        for column in ("phone_index", "email_index", "address_index"):
            assert getattr(contacts[filed_id], column) == getattr(contacts[loaded_id], column)
        tokens = {
            public_id: {t.token_index for t in contact.name_tokens}
            for public_id, contact in contacts.items()
        }
        assert tokens[filed_id] == tokens[loaded_id]
        (call,) = calls_service.search_calls(session, keyring, phone_e164=who.phone)
        assert call.call_sid == f"CA{7:032x}"
        assert calls_service.party_number(keyring, call, "from") == who.phone


def test_the_search_benchmark_runs_small_and_measures_a_kept_database_again(
    tmp_path: Path,
) -> None:
    kept = tmp_path / "kept"

    def bench(*args: str) -> str:
        result = finished("request_search", *args, temp=tmp_path, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    sizes = ("--requests", "3000", "--calls", "3000", "--queries", "20")
    try:
        first = bench(*sizes, "--keep", str(kept), "--workers", "1")  # rows built by a worker
        backends = ["sqlite", "postgresql"] if _postgres_answers() else ["sqlite"]
        for name in backends:
            assert f"{name}: loading" in first
        assert first.count("loaded 3,000 requests and 3,000 calls") == len(backends)
        assert first.count("name words") == len(backends)
        again = bench(*sizes, "--keep", str(kept))
        assert ": loading" not in again
        assert again.count("measuring the kept database (not loading)") == len(backends)
        assert again.count("name words") == len(backends)
        schemas = [
            json.loads((kept / f"{name}.json").read_text())["url"].rsplit("%3D", 1)[1]
            for name in backends
            if name == "postgresql"
        ]
    finally:
        # Kept databases outlive a run by design: this one must not outlive the test.
        bench("--drop-kept", str(kept))
    assert not (kept / "search.db").exists() and not list(kept.glob("*.json"))
    for schema in schemas:
        assert not schema_exists(schema)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]  # the scratch folders went


def test_a_database_kept_from_a_load_stopped_midway_is_dropped_with_the_others(
    tmp_path: Path,
) -> None:
    if not _postgres_answers():
        assert os.environ.get("CI") != "true", "PostgreSQL is required when CI=true"
        pytest.skip("PostgreSQL not reachable")
    kept = tmp_path / "kept"
    sizes = ["--requests", "1000000", "--calls", "0", "--backend", "postgresql"]
    process = benchmark("request_search", *sizes, "--keep", str(kept), temp=tmp_path)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "postgresql: loading" in line:
                break
        time.sleep(2)  # stopped while loading
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            process.kill()
    manifest = json.loads((kept / "postgresql.json").read_text())
    assert not manifest["loaded"], output
    schema = manifest["url"].rsplit("%3D", 1)[1]
    assert schema_exists(schema)
    dropped = subprocess.run(
        [sys.executable, "-m", "benchmarks.request_search", "--drop-kept", str(kept)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert not schema_exists(schema), dropped.stdout
    assert not list(kept.iterdir())


def _postgres_answers() -> bool:
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()
