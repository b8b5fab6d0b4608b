"""Chunked media encryption: any range decrypts alone; any tampering is caught."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.media import (
    HEADER,
    TAG_BYTES,
    MediaDecryptionError,
    open_media,
    open_range,
    seal_media,
)

KEY = bytes(range(32))
H, C = HEADER.size, 1000 + TAG_BYTES  # where chunks start, and a sealed chunk's size
PLAIN = os.urandom(5 * 1000 + 17)


def reader(blob: bytes):  # type: ignore[no-untyped-def]
    return lambda offset, length: blob[offset : offset + length]


def test_round_trip_and_no_plain_bytes_in_the_blob() -> None:
    blob = seal_media(PLAIN, KEY, "RE1", chunk=1000)
    assert open_media(blob, KEY, "RE1") == PLAIN
    assert PLAIN[100:200] not in blob
    assert open_media(seal_media(b"", KEY, "RE1"), KEY, "RE1") == b""


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_range_decrypts_to_the_same_bytes(data: st.DataObject) -> None:
    blob = seal_media(PLAIN, KEY, "RE1", chunk=1000)
    start = data.draw(st.integers(0, len(PLAIN) - 1))
    end = data.draw(st.integers(start, len(PLAIN) - 1))
    plain, _ = open_range(reader(blob), KEY, "RE1", start, end)
    assert plain == PLAIN[start : end + 1]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # a flipped bit
        lambda blob: (
            blob[:29] + blob[29 + 1016 : 29 + 2032] + blob[29 : 29 + 1016] + blob[29 + 2032 :]
        ),  # swapped chunks
        lambda blob: blob[: H + 2 * C],  # cut short after whole chunks
    ],
)
def test_tampering_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    blob = seal_media(PLAIN, KEY, "RE1", chunk=1000)
    with pytest.raises(MediaDecryptionError):
        open_media(tamper(blob), KEY, "RE1")


def test_a_blob_does_not_open_for_another_recording_or_key() -> None:
    blob = seal_media(PLAIN, KEY, "RE1", chunk=1000)
    with pytest.raises(MediaDecryptionError):
        open_media(blob, KEY, "RE2")
    with pytest.raises(MediaDecryptionError):
        open_media(blob, os.urandom(32), "RE1")
