"""Field encryption, key wrapping and blind indexes."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import update

from services.platform.context import AppContext
from storage.crypto import (
    DecryptionError,
    FieldContext,
    Keyring,
    MasterKey,
    MasterKeyError,
    decode_master_key,
    load_or_create_master_key,
)
from storage.keystore import EncryptionKey

HERE = FieldContext("calls", "from", "CA1")


def test_sealed_value_opens_only_where_it_was_sealed(context: AppContext) -> None:
    keyring = context.keyring
    sealed = keyring.seal("+12025550142", HERE)

    assert b"2025550142" not in sealed
    assert keyring.open(sealed, HERE) == "+12025550142"
    for elsewhere in (
        FieldContext("calls", "from", "CA2"),
        FieldContext("calls", "to", "CA1"),
        FieldContext("service_requests", "from", "CA1"),
    ):
        with pytest.raises(DecryptionError):
            keyring.open(sealed, elsewhere)


def test_a_changed_byte_is_refused(context: AppContext) -> None:
    sealed = bytearray(context.keyring.seal("+12025550142", HERE))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        context.keyring.open(bytes(sealed), HERE)
    with pytest.raises(DecryptionError):
        context.keyring.open(bytes(sealed[:10]), HERE)


def test_same_value_seals_differently_each_time(context: AppContext) -> None:
    first = context.keyring.seal("+12025550142", HERE)
    second = context.keyring.seal("+12025550142", HERE)
    assert first != second


def test_blind_index_is_stable_and_separate_per_kind(context: AppContext) -> None:
    keyring = context.keyring
    assert keyring.blind_index("phone", "+12025550142") == keyring.blind_index(
        "phone", "+12025550142"
    )
    assert keyring.blind_index("phone", "+12025550142") != keyring.blind_index(
        "phone", "+12025550143"
    )
    assert keyring.blind_index("phone", "x") != keyring.blind_index("email", "x")
    assert keyring.keyed_hash("audit-search", "x") != keyring.blind_index("phone", "x").hex()


def test_another_process_reads_what_this_one_sealed(context: AppContext) -> None:
    sealed = context.keyring.seal("+12025550142", HERE)
    index = context.keyring.blind_index("phone", "+12025550142")
    other = Keyring(context.keyring.master, context.db)
    assert other.open(sealed, HERE) == "+12025550142"
    assert other.blind_index("phone", "+12025550142") == index


def test_wrong_master_key_cannot_open_stored_keys(context: AppContext) -> None:
    sealed = context.keyring.seal("+12025550142", HERE)
    stranger = Keyring(MasterKey(os.urandom(32)), context.db)
    with pytest.raises(MasterKeyError):
        stranger.open(sealed, HERE)


def test_a_destroyed_key_no_longer_opens_its_values(context: AppContext) -> None:
    sealed = context.keyring.seal("+12025550142", HERE)
    with context.db.begin() as session:
        session.execute(
            update(EncryptionKey)
            .where(EncryptionKey.id == Keyring.key_id_of(sealed))
            .values(wrapped_key=None, state="destroyed")
        )
    fresh = Keyring(context.keyring.master, context.db)
    with pytest.raises(DecryptionError):
        fresh.open(sealed, HERE)


def test_master_key_is_generated_once_with_owner_only_permissions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key, generated = load_or_create_master_key(None, tmp_path)
    assert generated
    mode = stat.S_IMODE(os.stat(tmp_path / "master.key").st_mode)
    assert mode == 0o600
    again, generated_again = load_or_create_master_key(None, tmp_path)
    assert (again, generated_again) == (key, False)


@pytest.mark.parametrize("text", ["not base64!", "c2hvcnQ=", ""])
def test_a_bad_master_key_setting_is_refused(text: str) -> None:
    with pytest.raises(MasterKeyError):
        decode_master_key(text)
