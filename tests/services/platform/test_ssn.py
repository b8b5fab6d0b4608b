"""SSN-like numbers are found by the SSA's issuance rules, with or without separators."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.platform import ssn
from services.platform.errors import InvalidField


@pytest.mark.parametrize(
    "text",
    [
        "my ssn is 123-45-6789",
        "123 45 6789 please",
        "123456789",
        "ssn:078.05.1120",
        "(123-45-6789)",
    ],
)
def test_ssn_like_numbers_are_found(text: str) -> None:
    assert ssn.contains_ssn(text)
    assert ssn.REDACTED in ssn.redact(text)
    assert "6789" not in ssn.redact(text) or "1120" not in ssn.redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",  # area 000 is never issued
        "666-12-3456",  # nor 666
        "900-12-3456",  # nor 900-999 (ITINs live there)
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "123-45 6789",  # mixed separators
        "call (202) 555-0142",  # a phone number
        "2025550142",  # ten digits
        "zip 19801-1234",
        "case 1234567890123",
        "12-3456789",
        "",
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert not ssn.contains_ssn(text)
    assert ssn.redact(text) == text


def test_staff_input_is_refused_naming_the_field_without_echoing_it() -> None:
    with pytest.raises(InvalidField) as error:
        ssn.refuse("description", "caller gave 123-45-6789 by mistake")
    assert error.value.errors == [
        {
            "field": "description",
            "message": "looks like a Social Security number; the city does not record them",
        }
    ]
    assert "6789" not in str(error.value.detail)
    ssn.refuse("description", "pothole at 123 Main St")  # no error


@given(
    area=st.integers(1, 899).filter(lambda n: n != 666),
    group=st.integers(1, 99),
    serial=st.integers(1, 9999),
    separator=st.sampled_from(["", "-", " ", "."]),
    before=st.text(alphabet="abc ,;:()", max_size=5),
    after=st.text(alphabet="abc ,;:()", max_size=5),
)
def test_every_issuable_number_is_redacted(
    area: int, group: int, serial: int, separator: str, before: str, after: str
) -> None:
    number = f"{area:03d}{separator}{group:02d}{separator}{serial:04d}"
    redacted = ssn.redact(before + number + after)
    assert number not in redacted
    assert redacted == before + ssn.REDACTED + after
