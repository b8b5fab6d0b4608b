"""Public reference numbers: random, so they say nothing about when or by whom a record
was made, and drawn from an alphabet without look-alikes (no 0/O, 1/I/L, U) so they can
be read out over the phone."""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def public_id(prefix: str, *groups: int) -> str:
    """``prefix`` and random groups of these lengths: ``public_id("SR", 5, 5)`` gives
    e.g. SR-7K3MX-9Q2DA."""
    return "-".join(
        [prefix, *("".join(secrets.choice(ALPHABET) for _ in range(size)) for size in groups)]
    )
