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
        "call (202) 555-0142",  # a phone number
        "2025550142",  # ten digits
        "zip 19801-1234",
        "case 1234567890123",
        "12-3456789",
        "123-456789",  # apart once, together once: not how an SSN is written
        "order 2024-123-45-6789",  # part of a longer dashed run
        "",
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert not ssn.contains_ssn(text)
    assert ssn.redact(text) == text


# Spellings an outside review got past the first detector, and their siblings.
SPELLINGS = [
    "SSN-123-45-6789",  # glued to letters and a dash
    "ssn#123456789",
    "SSN123456789",
    "123-45-6789-",  # a trailing dash
    "(123.45.6789.)",  # dots, and a dot after
    "123\u201345\u20136789",  # en dash
    "123\u201445\u20146789",  # em dash
    "123\u221245\u22126789",  # minus sign
    "123/45/6789",
    "123_45_6789",
    "123\u00a045\u00a06789",  # no-break space
    "123\t45\t6789",
    "123 - 45 - 6789",
    "123-45 6789",  # mixed separators
    "\uff11\uff12\uff13-\uff14\uff15-\uff16\uff17\uff18\uff19",  # full-width digits
    "302-555-0133 123-45-6789",  # beside a phone number
    "123-45-6789 302-555-0133",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_is_found_and_redacted(spelling: str) -> None:
    text = f"caller said {spelling} twice"
    assert ssn.contains_ssn(text)
    redacted = ssn.redact(text)
    assert ssn.REDACTED in redacted
    assert "6789" not in redacted and "\uff16\uff17\uff18\uff19" not in redacted
    assert redacted.startswith("caller said ") and redacted.endswith(" twice")


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
    separator=st.sampled_from(["", "-", " ", ".", "\u2013", "/", "_", "\u00a0", "\t"]),
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
