"""Encrypted media: AES-256-GCM in fixed-size chunks, so any byte range can be read
and decrypted without the rest.

Layout: a header (magic, version, chunk size, plain length, a random nonce prefix),
then one ciphertext per chunk (plain chunk + 16-byte tag). Chunk ``i`` is sealed with
nonce ``prefix || i`` and associated data binding the header, the owner (a recording
SID), ``i`` and whether it is the last chunk, so a chunk moved, dropped, repeated or
cut short, or a blob moved to another recording, does not decrypt.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SBM1"
HEADER = struct.Struct(">4sBIQ8s")  # magic, version, chunk size, plain length, nonce prefix
TAG_BYTES = 16
CHUNK_BYTES = 64 * 1024
VERSION = 1


class MediaDecryptionError(Exception):
    pass


@dataclass(frozen=True)
class MediaHeader:
    chunk: int
    plain_length: int
    nonce_prefix: bytes
    raw: bytes

    @property
    def chunks(self) -> int:
        return max(1, -(-self.plain_length // self.chunk))

    def offset(self, index: int) -> int:
        """Where chunk ``index`` starts in the blob."""
        return HEADER.size + index * (self.chunk + TAG_BYTES)

    def sealed_length(self, index: int) -> int:
        if index == self.chunks - 1:
            return self.plain_length - index * self.chunk + TAG_BYTES
        return self.chunk + TAG_BYTES

    @property
    def blob_length(self) -> int:
        return self.offset(self.chunks - 1) + self.sealed_length(self.chunks - 1)


def _aad(header: bytes, owner: str, index: int, last: bool) -> bytes:
    return header + owner.encode() + struct.pack(">I?", index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def seal_media(plain: bytes, key: bytes, owner: str, *, chunk: int = CHUNK_BYTES) -> bytes:
    """Encrypt ``plain`` for ``owner`` under ``key`` (32 bytes)."""
    aead = AESGCM(key)
    header = HEADER.pack(MAGIC, VERSION, chunk, len(plain), os.urandom(8))
    count = max(1, -(-len(plain) // chunk))
    parts = [header]
    for index in range(count):
        piece = plain[index * chunk : (index + 1) * chunk]
        parts.append(
            aead.encrypt(
                _nonce(header[-8:], index), piece, _aad(header, owner, index, index == count - 1)
            )
        )
    return b"".join(parts)


def read_header(raw: bytes) -> MediaHeader:
    if len(raw) < HEADER.size:
        raise MediaDecryptionError("media header is truncated")
    magic, version, chunk, length, prefix = HEADER.unpack_from(raw)
    if magic != MAGIC or version != VERSION or chunk <= 0:
        raise MediaDecryptionError("not an encrypted media blob of a known version")
    return MediaHeader(chunk, length, prefix, raw[: HEADER.size])


def open_range(
    read: Callable[[int, int], bytes], key: bytes, owner: str, start: int, end: int
) -> tuple[bytes, MediaHeader]:
    """Plain bytes ``start``..``end`` (inclusive) of a sealed blob, reading only the
    chunks they fall in through ``read(offset, length)``."""
    header = read_header(read(0, HEADER.size))
    if not 0 <= start <= end < header.plain_length:
        raise ValueError("range outside the media")
    aead = AESGCM(key)
    first, last = start // header.chunk, end // header.chunk
    span = header.offset(last) + header.sealed_length(last) - header.offset(first)
    sealed = read(header.offset(first), span)
    plain = bytearray()
    position = 0
    for index in range(first, last + 1):
        size = header.sealed_length(index)
        piece = sealed[position : position + size]
        position += size
        try:
            plain += aead.decrypt(
                _nonce(header.nonce_prefix, index),
                piece,
                _aad(header.raw, owner, index, index == header.chunks - 1),
            )
        except InvalidTag as exc:
            raise MediaDecryptionError("a media chunk was altered, moved or cut short") from exc
    offset = first * header.chunk
    return bytes(plain[start - offset : end - offset + 1]), header


def open_media(blob: bytes, key: bytes, owner: str) -> bytes:
    """All plain bytes of a sealed blob; MediaDecryptionError if anything is wrong."""
    header = read_header(blob)
    if len(blob) != header.blob_length:
        raise MediaDecryptionError("media blob has the wrong length")
    if header.plain_length == 0:
        return b""
    plain, _ = open_range(
        lambda offset, length: blob[offset : offset + length],
        key,
        owner,
        0,
        header.plain_length - 1,
    )
    return plain
