"""Reading caller IDs and numbers staff type in."""

from __future__ import annotations

import pytest

from services.platform.phones import CallerId, InvalidPhoneNumber, normalise, read_caller_id


@pytest.mark.parametrize(
    "typed",
    [
        "+12025550142",
        "(202) 555-0142",
        "202-555-0142",
        "202.555.0142",
        "1 202 555 0142",
        "2025550142",
    ],
)
def test_common_formats_become_e164(typed: str) -> None:
    assert normalise(typed, "US") == "+12025550142"


def test_national_format_uses_the_default_region() -> None:
    assert normalise("020 7946 0958", "GB") == "+442079460958"


@pytest.mark.parametrize(
    "typed", ["hello", "12", "+1 202 555 01429999", "sip:agent@example.org", "x" * 80]
)
def test_what_is_not_a_number_is_refused_without_echoing_it(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as error:
        normalise(typed, "US")
    assert typed not in str(error.value)


@pytest.mark.parametrize(
    "raw",
    [
        "anonymous",
        "Anonymous",
        "restricted",
        "RESTRICTED",
        "unknown",
        "private",
        "",
        None,
        "+266696687",
        "+7378742833",
        "+86282452253",
        "+2562533",
        "+8656696",
    ],
)
def test_withheld_caller_ids_carry_no_number(raw: str | None) -> None:
    assert read_caller_id(raw, "US") == CallerId(withheld=True)


def test_a_sip_caller_id_is_kept_as_text() -> None:
    assert read_caller_id("sip:alice@pbx.example.org", "US") == CallerId(
        unparsed="sip:alice@pbx.example.org"
    )


def test_garbage_caller_id_is_kept_as_text_and_never_raises() -> None:
    assert read_caller_id("++--", "US") == CallerId(unparsed="++--")
    assert read_caller_id("1" * 500, "US").unparsed is not None
