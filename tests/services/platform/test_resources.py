"""A resource read from its row: same-named fields from the row, the rest as shown."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import BaseModel, ValidationError

from services.platform.resources import resource


class ThingOut(BaseModel):
    id: str
    name: str
    count: int
    tags: list[str] = []


@dataclass
class Thing:
    public_id: str
    name: str
    count: int
    id: int = 7  # the row's own key, never shown


def test_fields_come_from_the_row_by_name_and_shown_ones_take_their_place() -> None:
    out = resource(ThingOut, Thing("TH-1", "bench", 3), id="TH-1")
    assert out == ThingOut(id="TH-1", name="bench", count=3, tags=[])


def test_a_shown_value_wins_over_the_rows_attribute_of_that_name() -> None:
    out = resource(ThingOut, Thing("TH-1", "bench", 3), id="TH-1", count=4)
    assert out.count == 4


def test_a_field_the_row_lacks_takes_its_default_or_is_named_as_missing() -> None:
    @dataclass
    class Nameless:
        count: int

    assert resource(ThingOut, Thing("TH-1", "bench", 3), id="x").tags == []
    with pytest.raises(ValidationError) as missing:
        resource(ThingOut, Nameless(3), id="TH-1")
    assert [error["loc"] for error in missing.value.errors()] == [("name",)]


def test_values_are_validated_as_the_model_says() -> None:
    with pytest.raises(ValidationError):
        resource(ThingOut, Thing("TH-1", "bench", 3), id="TH-1", count="many")
