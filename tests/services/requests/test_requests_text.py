"""Normal forms for search, and scrubbing free text."""

from __future__ import annotations

import pytest

from services.requests.text import canonical_address, fold, name_tokens, normalise_email, scrub


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
