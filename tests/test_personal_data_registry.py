"""The personal-data registry names every place personal data lives.

Key rotation, the purge, legal holds and access requests see only what the registry
names, so a sealed column, blind index, wrapped key or free-text column that no entry
names would be missed by all of them. These tests read the tables themselves and fail
for any column the registry does not account for.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from services.app.features import feature_modules, feature_names, personal_data_registry
from services.platform.personal_data import Registry
from storage.base import Base


@pytest.fixture(scope="module")
def registry() -> Registry:
    return personal_data_registry()


def columns(test: Any) -> set[tuple[str, str]]:
    return {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if test(column)
    }


def named(attributes: Any) -> set[tuple[str, str]]:
    return {(attribute.class_.__tablename__, attribute.key) for attribute in attributes}


def is_binary(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.LargeBinary)


def test_every_sealed_column_is_named(registry: Registry) -> None:
    sealed = columns(lambda c: is_binary(c) and ("sealed" in c.name or "unparsed" in c.name))
    assert sealed == named(entry.column for entry in registry.sealed())


def test_every_blind_index_is_named(registry: Registry) -> None:
    indexes = columns(lambda c: is_binary(c) and c.name.endswith("index"))
    assert indexes == named(
        indexed.column for entry in registry.entries for indexed in entry.indexes
    )


def test_every_wrapped_key_is_named(registry: Registry) -> None:
    wrapped = columns(lambda c: is_binary(c) and c.name == "wrapped_key") - {
        ("encryption_keys", "wrapped_key")  # the keystore itself, re-wrapped by rotation
    }
    assert wrapped == named(key.column for key in registry.wrapped_keys())


def test_every_free_text_column_is_classified(registry: Registry) -> None:
    """Text, long strings and JSON may hold what someone typed: each is marked personal
    or not by the feature that owns it. A shorter string staff type (a service's group,
    an extension's name) may be classified too, so the storage guard screens it."""

    def free_text(column: sa.Column[Any]) -> bool:
        kind = column.type
        if isinstance(kind, sa.Text | sa.JSON):
            return True
        return isinstance(kind, sa.String) and (kind.length or 0) >= 100

    def text_or_json(column: sa.Column[Any]) -> bool:
        return isinstance(column.type, sa.String | sa.JSON)

    classified = named(text.column for entry in registry.entries for text in entry.free_text)
    assert columns(free_text) <= classified
    assert classified <= columns(text_or_json)


def test_every_table_belongs_to_one_feature() -> None:
    owners: dict[str, list[str]] = {}
    modules = [*feature_modules("models")]
    import services.platform.models as platform_models
    import storage.keystore as keystore

    for module in [*modules, platform_models, keystore]:
        for value in vars(module).values():
            table = getattr(value, "__table__", None)
            if table is not None and value.__module__ == module.__name__:
                owners.setdefault(table.name, []).append(module.__name__)
    assert set(owners) == set(Base.metadata.tables)
    assert {name: places for name, places in owners.items() if len(places) > 1} == {}


def test_every_record_class_is_purged_and_every_step_has_a_class(registry: Registry) -> None:
    classes = registry.record_classes()
    steps = {step.record_class for step in registry.purge_steps()}
    assert steps == set(classes)


def test_entries_are_named_for_their_feature(registry: Registry) -> None:
    features = {entry.feature for entry in registry.entries}
    assert features <= {*feature_names(), "platform"}
    assert len(features) == len(registry.entries)
