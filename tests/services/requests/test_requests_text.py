"""Normal forms for search, and scrubbing free text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.requests.text import (
    canonical_address,
    fold,
    name_tokens,
    normalise_email,
    scrub,
)


def test_names_fold_case_and_accents() -> None:
    assert fold("José ÁLVAREZ") == "jose alvarez"
    assert name_tokens("  José  Álvarez-Núñez ") == ["jose", "alvarez", "nunez"]
    assert name_tokens("Ann ann ANN") == ["ann"]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("12 North Oak Street, Apt. 3", "12 n oak st #3"),
        ("1600 Pennsylvania Avenue NW", "1600 pennsylvania ave northwest"),
        ("5 Rue Saint-Honoré", "5 rue saint honore"),
    ],
)
def test_addresses_in_one_spelling(one: str, other: str) -> None:
    assert canonical_address(one) == canonical_address(other)


def test_emails_are_trimmed_and_folded() -> None:
    assert normalise_email("  Ana.Lopez@Example.ORG ") == "ana.lopez@example.org"
    with pytest.raises(ValueError, match="not an email"):
        normalise_email("ana at example")


def test_scrub_removes_numbers_emails_ssns_and_given_words() -> None:
    text = "Call Ana Lopez at (302) 555-0133 or ana@example.org, SSN 219-09-9999. Pothole on 5th."
    scrubbed = scrub(text, "US", also=["Ana", "López"])
    assert "555-0133" not in scrubbed and "ana@example.org" not in scrubbed
    assert "219-09-9999" not in scrubbed
    assert "Ana" not in scrubbed and "Lopez" not in scrubbed
    assert "Pothole on 5th." in scrubbed


def test_markers_never_land_inside_each_other() -> None:
    # A contact named like the markers' own words, and detectors that overlap.
    text = "Number Removed called from 302-555-0133 about ana@example.org; ssn 219-09-9999"
    scrubbed = scrub(text, "US", also=["Number", "Removed", "Name", "Email", "SSN"])
    assert scrubbed == (
        "[name removed] [name removed] called from [number removed] about "
        "[email removed]; [name removed] [SSN removed]"
    )
    assert "[number [" not in scrubbed and "removed]]" not in scrubbed


@pytest.mark.parametrize(
    "email",
    [
        "josé.núñez@correo.es",
        "ana@müller.de",
        "ЮЛИЯ@пример.рф",
        "o'brien@example.ie",
        "ana at example dot org",
        "ana [at] example [dot] org",
    ],
)
def test_emails_in_any_script_or_spelled_out_are_removed(email: str) -> None:
    assert scrub(f"write to {email} please", "US") == "write to [email removed] please"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is jose alvarez and I am worried", "My name is [name removed] and I am worried"),
        ("me llamo María José, hay basura", "me llamo [name removed], hay basura"),
        ("This is Ann Lee from the corner", "This is [name removed] from the corner"),
        ("neighbor Mrs. Ana Lopez dumps trash", "neighbor Mrs. [name removed] dumps trash"),
        (
            "Spoke to Bob Ray today. Thanks, Kim",
            "Spoke to [name removed] today. Thanks, [name removed]",
        ),
        ("Pothole on Oak Street near the park", "Pothole on Oak Street near the park"),
    ],
)
def test_names_are_found_by_their_cues(text: str, expected: str) -> None:
    assert scrub(text, "US", names=True) == expected


def test_house_and_flat_numbers_are_removed_but_street_names_kept() -> None:
    text = "Leak at 1234 N Oak St, Apt 3B; also #12 and unit 4. Pothole on 5th Ave."
    assert scrub(text, "US", addresses=True) == (
        "Leak at [house number removed] N Oak St, [unit removed]; also [unit removed] and "
        "[unit removed]. Pothole on 5th Ave."
    )


def test_a_contacts_home_address_numbers_are_removed() -> None:
    assert (
        scrub("Call at my place, 12 North Oak, flat 3", "US", numbers_of=["12", "3"])
        == "Call at my place, [house number removed] North Oak, flat [house number removed]"
    )


FRAGMENTS = [
    "my name is Ana Lopez",
    "neighbor Mrs. Kim",
    "302-555-0133",
    "ana@example.org",
    "josé@correo.es",
    "219-09-9999",
    "1234 Oak St",
    "Apt 3B",
    "#12",
    "Number",
    "Removed",
    "[name removed]",
    "pothole",
    ", ",
    " ",
]


@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=12),
    st.lists(st.sampled_from(["Ana", "Number", "Removed", "Name"]), max_size=3),
)
def test_the_filter_is_stable_and_its_markers_never_nest(parts: list[str], also: list[str]) -> None:
    once = scrub(" ".join(parts), "US", also=also, names=True, addresses=True)
    assert scrub(once, "US", also=also, names=True, addresses=True) == once
    assert "removed]]" not in once and "[[" not in once
    assert not re.search(r"\[[^\]]*\[", once)
