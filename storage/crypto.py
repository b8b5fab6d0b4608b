"""Field encryption and blind indexes.

Key hierarchy: the master key (``MASTER_KEY``, never stored in the database) wraps every
key in ``encryption_keys``. Personal fields are sealed with AES-256-GCM under the active
data key, with associated data binding each value to its table, column and row, so a
sealed value copied into another row or column no longer opens. Exact-match search uses
blind indexes: HMAC-SHA-256 of a normalised value under a key derived (HKDF) from the
index root key, one derived key per kind of value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import reading
from storage.keystore import EncryptionKey

KEY_BYTES = 32
NONCE_BYTES = 12
INDEX_BYTES = 16
FORMAT_VERSION = 1
_HEADER = struct.Struct(">BI")  # format version, key id
ACTIVE_KEY_REFRESH_SECONDS = 60.0


class CryptoError(Exception):
    """Base for key problems; messages never carry key material or plaintext."""


class MasterKeyError(CryptoError):
    pass


class DecryptionError(CryptoError):
    pass


def decode_master_key(text: str) -> bytes:
    """Read a base64 master key; it must be exactly 32 bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise MasterKeyError("MASTER_KEY is not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise MasterKeyError(f"MASTER_KEY must be {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def new_master_key_text() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class FieldContext:
    """Where a sealed value lives; it is the AES-GCM associated data."""

    table: str
    column: str
    row: str

    def encode(self) -> bytes:
        return f"{self.table}\x1f{self.column}\x1f{self.row}".encode()


class MasterKey:
    """Wraps and unwraps data keys. The key itself never leaves this object."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise MasterKeyError(f"master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(raw)

    def wrap(self, key: bytes, *, purpose: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, key, b"wrap\x1f" + purpose.encode())

    def unwrap(self, wrapped: bytes, *, purpose: str) -> bytes:
        try:
            return self._aead.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"wrap\x1f" + purpose.encode()
            )
        except InvalidTag as exc:
            raise MasterKeyError("a stored key does not open with this MASTER_KEY") from exc


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Keyring:
    """The process's view of the keys in ``encryption_keys``, unwrapped and cached.

    A key id it has not seen (written by another process after a rotation) is loaded on
    demand; the active data key is re-read every minute so a rotation reaches every
    process without a restart.
    """

    def __init__(
        self,
        master: MasterKey,
        sessions: sessionmaker[Session],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._master = master
        self._sessions = sessions
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._data_keys: dict[int, AESGCM] = {}
        self._active_id: int | None = None
        self._active_loaded_at = 0.0
        self._index_keys: dict[str, bytes] = {}
        self._index_root: bytes | None = None
        # Looks at every value about to be sealed and raises to refuse it (the SSN
        # guard, installed by the composition root); sealed text cannot be read later.
        self.screen: Callable[[str, FieldContext], None] | None = None

    @property
    def master(self) -> MasterKey:
        return self._master

    # -- set-up ---------------------------------------------------------------------
    def ensure_keys(self, session: Session) -> None:
        """Create the first data key and the index root if the database has none."""
        for purpose in ("data", "index"):
            exists = session.scalar(
                select(EncryptionKey.id).where(
                    EncryptionKey.purpose == purpose, EncryptionKey.state == "active"
                )
            )
            if exists is None:
                session.add(
                    EncryptionKey(
                        purpose=purpose,
                        state="active",
                        wrapped_key=self._master.wrap(os.urandom(KEY_BYTES), purpose=purpose),
                        created_at=_utcnow(),
                    )
                )
                session.flush()

    def new_wrapped_data_key(self) -> bytes:
        """A fresh random data key, wrapped by the master key (for rotation)."""
        return self._master.wrap(os.urandom(KEY_BYTES), purpose="data")

    def forget(self) -> None:
        """Drop every cached key (after a rotation in this process, or in tests)."""
        with self._lock:
            self._data_keys.clear()
            self._active_id = None
            self._index_keys.clear()
            self._index_root = None

    # -- data keys --------------------------------------------------------------------
    def _load_data_key(self, key_id: int) -> AESGCM:
        with reading(self._sessions) as session:
            row = session.get(EncryptionKey, key_id)
            if row is None or row.purpose != "data" or row.wrapped_key is None:
                raise DecryptionError(f"data key {key_id} is not available")
            aead = AESGCM(self._master.unwrap(row.wrapped_key, purpose="data"))
        with self._lock:
            self._data_keys[key_id] = aead
        return aead

    def _data_key(self, key_id: int) -> AESGCM:
        aead = self._data_keys.get(key_id)
        return aead if aead is not None else self._load_data_key(key_id)

    def active_data_key_id(self) -> int:
        now = self._monotonic()
        if self._active_id is None or now - self._active_loaded_at > ACTIVE_KEY_REFRESH_SECONDS:
            with reading(self._sessions) as session:
                key_id = session.scalar(
                    select(EncryptionKey.id)
                    .where(EncryptionKey.purpose == "data", EncryptionKey.state == "active")
                    .order_by(EncryptionKey.id.desc())
                    .limit(1)
                )
            if key_id is None:
                raise DecryptionError("no active data key: run 'switchboard db upgrade'")
            self._active_id, self._active_loaded_at = key_id, now
        return self._active_id

    def check_open(self) -> None:
        """Unwrap the active data key and the index root (cached once they open): raises
        when the master key in force is not the one that wrapped them."""
        self._data_key(self.active_data_key_id())
        self._root()

    def seal(self, plaintext: str, context: FieldContext, *, screened: bool = True) -> bytes:
        """Encrypt ``plaintext`` for the place ``context`` names, after ``screen`` passed
        it (``screened=False``: a value already stored, re-sealed under a new key)."""
        if screened and self.screen is not None:
            self.screen(plaintext, context)
        key_id = self.active_data_key_id()
        header = _HEADER.pack(FORMAT_VERSION, key_id)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._data_key(key_id).encrypt(
            nonce, plaintext.encode("utf-8"), header + context.encode()
        )
        return header + nonce + sealed

    def open(self, blob: bytes, context: FieldContext) -> str:
        """Decrypt a value sealed by :meth:`seal` for the same place.

        Raises DecryptionError when the value was altered, moved to another row or
        column, or its key is gone.
        """
        if len(blob) < _HEADER.size + NONCE_BYTES + 16:
            raise DecryptionError("sealed value is truncated")
        version, key_id = _HEADER.unpack_from(blob)
        if version != FORMAT_VERSION:
            raise DecryptionError(f"unknown sealed format {version}")
        header = blob[: _HEADER.size]
        nonce = blob[_HEADER.size : _HEADER.size + NONCE_BYTES]
        try:
            plain = self._data_key(key_id).decrypt(
                nonce, blob[_HEADER.size + NONCE_BYTES :], header + context.encode()
            )
        except InvalidTag as exc:
            raise DecryptionError(
                f"sealed value does not open for {context.table}.{context.column}"
            ) from exc
        return plain.decode("utf-8")

    @staticmethod
    def key_id_of(blob: bytes) -> int:
        """The data key a sealed value was written with (for rotation)."""
        return int(_HEADER.unpack_from(blob)[1])

    # -- blind indexes and keyed hashes -------------------------------------------------
    def _root(self) -> bytes:
        if self._index_root is None:
            with reading(self._sessions) as session:
                row = session.scalar(
                    select(EncryptionKey).where(
                        EncryptionKey.purpose == "index", EncryptionKey.state == "active"
                    )
                )
                if row is None or row.wrapped_key is None:
                    raise DecryptionError("no index key: run 'switchboard db upgrade'")
                self._index_root = self._master.unwrap(row.wrapped_key, purpose="index")
        return self._index_root

    def derived_key(self, name: str) -> bytes:
        """A 32-byte key of its own for one use (one kind of blind index, audit hashes...)."""
        key = self._index_keys.get(name)
        if key is None:
            key = HKDF(
                algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=name.encode()
            ).derive(self._root())
            with self._lock:
                self._index_keys[name] = key
        return key

    def blind_index(self, kind: str, normalised: str) -> bytes:
        """The blind index of an already normalised value, e.g. ``("phone", "+12025550123")``."""
        key = self.derived_key(f"blind-index:{kind}")
        return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).digest()[:INDEX_BYTES]

    def keyed_hash(self, purpose: str, value: str) -> str:
        """A hex keyed hash for records that must not hold the value (audit of a search)."""
        key = self.derived_key(f"keyed-hash:{purpose}")
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def load_or_create_master_key(
    configured: str | None, data_dir: os.PathLike[str] | str
) -> tuple[bytes, bool]:
    """The master key from settings, else from ``DATA_DIR/master.key`` (created mode 0600).

    Returns the key and whether it was generated just now, so the caller can warn.
    """
    if configured:
        return decode_master_key(configured), False
    path = os.path.join(os.fspath(data_dir), "master.key")
    if os.path.exists(path):
        with open(path, encoding="ascii") as handle:
            return decode_master_key(handle.read()), False
    os.makedirs(os.fspath(data_dir), exist_ok=True)
    text = new_master_key_text()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    return decode_master_key(text), True
