"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests skip when no server answers, except under ``CI=true``, where they fail.
Each xdist worker gets its own PostgreSQL schema, migrated once and truncated per test;
SQLite tests get a copy of a database migrated once per session.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.settings import Settings
from storage import migrate
from tests.fakes.smtp_server import MailSink, smtp_server
from tests.fakes.twilio_api import FakeTwilio
from tests.ports import free_port
from tests.support import (
    OPEN_HOURS,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    StaffFactory,
    TwilioClient,
    make_settings,
    running,
    served,
)

POSTGRES_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgresql")
# Names this checkout's PostgreSQL schemas: several checkouts may test at once.
CHECKOUT = hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6]


@contextmanager
def postgres_schema(schema: str) -> Iterator[str]:
    """An empty PostgreSQL schema of that name (one a run left behind is dropped first);
    the URL that works in it. The schema is dropped when the block ends."""
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _postgres_or_skip() -> None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(message + " (required when CI=true)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database for tests; skipped when none answers, except under CI=true."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(message + " (required when CI=true)")
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture(scope="session")
def worker_name(request: pytest.FixtureRequest) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return str(worker)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "switchboard.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema_url(worker_name: str) -> Iterator[str]:
    _postgres_or_skip()
    # One schema per checkout and xdist worker.
    with postgres_schema(f"sb_test_{CHECKOUT}_{worker_name}") as url:
        migrate.upgrade(url)
        yield url


def _truncate_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = [
            name for name in sa.inspect(connection).get_table_names() if name != "alembic_version"
        ]
        if tables:
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty SQLite database, for tests that need one backend only."""
    path = tmp_path / "switchboard.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A migrated, empty database on the test's backend."""
    if backend == "sqlite":
        sqlite: str = request.getfixturevalue("sqlite_url")
        return sqlite
    url: str = request.getfixturevalue("postgres_schema_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPEN_HOURS)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "var")


@pytest.fixture
def context(settings: Settings, clock: ManualClock) -> Iterator[AppContext]:
    with running(settings, clock) as built:
        yield built


@pytest.fixture
def context_with(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> Iterator[Callable[..., AppContext]]:
    """Builds the app on this test's database with some settings changed
    (``context_with(require_second_factor=True)``); each is disposed after the test."""
    with ExitStack() as stack:

        def build(**overrides: object) -> AppContext:
            settings = make_settings(database_url, tmp_path / "var", **overrides)
            return stack.enter_context(running(settings, clock))

        yield build


@pytest.fixture
def sqlite_context(sqlite_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[AppContext]:
    """The app on SQLite only: for tests that walk every route, where one backend will do."""
    with running(make_settings(sqlite_url, tmp_path / "var"), clock) as built:
        yield built


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with served(context) as test_client:
        yield test_client


@pytest.fixture
def twilio(client: TestClient) -> TwilioClient:
    """Posts webhooks signed the way Twilio signs them."""
    return TwilioClient(client)


@pytest.fixture
def staff(context: AppContext) -> StaffFactory:
    """Makes staff accounts and bearer-token headers for them."""
    return StaffFactory(context)


@pytest.fixture
def agent(staff: StaffFactory) -> dict[str, str]:
    """Bearer-token headers of an agent, ana."""
    return staff.headers("agent", "ana")


@pytest.fixture
def supervisor(staff: StaffFactory) -> dict[str, str]:
    """Bearer-token headers of a supervisor, sam."""
    return staff.headers("supervisor", "sam")


@pytest.fixture
def officer(staff: StaffFactory) -> dict[str, str]:
    """Bearer-token headers of a privacy officer, olga."""
    return staff.headers("privacy_officer", "olga")


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_twilio(fake_twilio_server: FakeTwilio) -> FakeTwilio:
    """Twilio's REST API on localhost; point TWILIO_API_BASE_URL at ``fake_twilio.url``."""
    fake_twilio_server.reset()
    return fake_twilio_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible server (moto's), a real HTTP endpoint in this process."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for the local S3-compatible server (it accepts any)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def smtp() -> Iterator[tuple[MailSink, str]]:
    """A real SMTP server (aiosmtpd) on a free port, and its smtp:// URL."""
    with smtp_server() as running_server:
        yield running_server
