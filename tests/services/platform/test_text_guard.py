"""The storage guard: whatever path a typed text takes to the database, an SSN-like
number in it is refused before any SQL is sent or any value sealed; what the system
itself writes (keys, hashes, ids) is not screened."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.app.features import personal_data_registry
from services.platform import ssn
from services.platform.context import AppContext
from services.platform.errors import InvalidField
from services.recordings.models import QaForm
from services.requests.models import ServiceType
from storage.crypto import FieldContext


def test_a_typed_column_written_past_every_feature_check_is_refused(
    context: AppContext,
) -> None:
    with pytest.raises(InvalidField) as refused, context.db.begin() as session:
        session.add(
            ServiceType(code="walk", name="Walk", department="SSN-387-61-4529", group="Streets")
        )
    assert refused.value.errors == [{"field": "department", "message": ssn.MESSAGE}]
    with context.db() as session:
        assert session.scalar(sa.select(ServiceType).where(ServiceType.code == "walk")) is None


def test_strings_inside_json_and_changed_rows_are_screened(context: AppContext) -> None:
    definition = {"sections": [{"title": "Opening", "questions": [{"text": "387 61 4529"}]}]}
    now = context.clock.now()
    with context.db.begin() as session:  # a complete row: only the number can refuse it
        session.add(QaForm(name="Calls", version=1, active=True, definition={}, created_at=now))
    with pytest.raises(InvalidField), context.db.begin() as session:
        session.add(
            QaForm(name="Calls", version=2, active=True, definition=definition, created_at=now)
        )
    with context.db.begin() as session:
        pothole = session.scalar(sa.select(ServiceType).where(ServiceType.code == "pothole"))
        assert pothole is not None
        pothole.description = "Holes in the road"  # a change without a number passes
    with pytest.raises(InvalidField), context.db.begin() as session:
        pothole = session.scalar(sa.select(ServiceType).where(ServiceType.code == "pothole"))
        assert pothole is not None
        pothole.description = "Holes\u00a0387\u201361\u20134529"


def test_typed_values_are_screened_before_they_are_sealed(context: AppContext) -> None:
    with pytest.raises(InvalidField) as refused:
        context.keyring.seal("387/61/4529", FieldContext("request_contacts", "name", "SR-1"))
    assert refused.value.errors[0]["field"] == "contact.name"
    # A phone number is derived and checked as one: not screened as text.
    context.keyring.seal("+298123456", FieldContext("request_contacts", "phone", "SR-1"))
    # Key rotation re-seals what is already stored, whatever it holds.
    context.keyring.seal(
        "387-61-4529", FieldContext("legal_holds", "person", "LH-1"), screened=False
    )


def test_what_the_system_writes_is_not_screened() -> None:
    registry = personal_data_registry()
    machine = {
        f"{text.column.class_.__tablename__}.{text.column.key}"
        for entry in registry.entries
        for text in entry.free_text
        if not text.typed
    }
    assert "staff_users.password_hash" in machine and "recordings.media_url" in machine
    typed = {f"{t.column.class_.__tablename__}.{t.column.key}" for t in registry.typed_text()}
    assert {"service_requests.description", "request_status_changes.note"} <= typed
    assert ("request_contacts", "email") in registry.typed_places()
    assert ("request_contacts", "phone") not in registry.typed_places()
