"""Property-based fuzzing of the whole OpenAPI surface: no input makes the server fail.

Each operation is called with the credentials of a role that may use it, so the fuzzer
reaches past the access check into validation and the services.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from services.app.factory import create_app
from services.platform.auth import PERMISSIONS
from services.platform.context import AppContext
from services.platform.roles import Role
from tests.support import StaffFactory, api_routes


@pytest.fixture
def fuzz_target(sqlite_context: AppContext) -> tuple[Any, dict[str, str]]:
    app = create_app(sqlite_context)
    factory = StaffFactory(sqlite_context)
    tokens = {role: factory.token(role, f"fuzz-{role.value.replace('_', '-')}") for role in Role}
    credentials: dict[str, str] = {}
    for route in api_routes(app):
        role = next((r for r in Role if route.permission in PERMISSIONS[r]), None)
        if role is not None:
            for method in route.methods:
                credentials[f"{method} {route.path}"] = tokens[role]
    return app, credentials


def test_no_input_causes_a_server_error(fuzz_target: tuple[Any, dict[str, str]]) -> None:
    app, credentials = fuzz_target
    web_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        token = credentials.get(f"{operation.method.upper()} {operation.path}")
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            response = case.call(headers=headers)  # noqa: B023 - bound per operation on purpose
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        no_server_error()
