"""The audit trail is a keyed hash chain anchored outside the database: any changed,
removed or reordered entry is found, also when the hashes were recomputed without the key
or the newest entries were cut off."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa

from services.app.factory import bootstrap
from services.platform import audit
from services.platform.context import AppContext
from services.platform.models import AuditChainHead, AuditEntry
from storage.db import reading


def write_entries(context: AppContext, count: int) -> None:
    for number in range(count):
        with context.db.begin() as session:
            audit.record(
                session,
                actor=audit.Actor(7, "dana", "agent", f"req-{number}"),
                action="calls.search",
                at=context.clock.now(),
                object_type="call",
                detail={"results": number},
            )


def verify(context: AppContext) -> audit.VerifyResult:
    with context.db() as session:
        return audit.verify(session)


def test_an_untouched_chain_verifies(context: AppContext) -> None:
    write_entries(context, 5)
    assert verify(context) == audit.VerifyResult(True, 5)


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        (sa.update(AuditEntry).where(AuditEntry.seq == 3).values(actor_name="someone-else"), 3),
        (sa.update(AuditEntry).where(AuditEntry.seq == 2).values(outcome="denied"), 2),
        (sa.delete(AuditEntry).where(AuditEntry.seq == 4), 4),
        (sa.delete(AuditEntry).where(AuditEntry.seq == 5), 5),
    ],
)
def test_tampering_is_found_at_the_first_bad_entry(
    context: AppContext, tamper: sa.Executable, first_bad: int
) -> None:
    write_entries(context, 5)
    with context.engine.begin() as connection:
        connection.execute(tamper)
    result = verify(context)
    assert not result.intact
    assert result.first_bad_seq == first_bad


def test_reordering_is_found(context: AppContext) -> None:
    write_entries(context, 4)
    with context.engine.begin() as connection:
        connection.execute(sa.update(AuditEntry).where(AuditEntry.seq == 2).values(seq=-2))
        connection.execute(sa.update(AuditEntry).where(AuditEntry.seq == 3).values(seq=2))
        connection.execute(sa.update(AuditEntry).where(AuditEntry.seq == -2).values(seq=3))
    result = verify(context)
    assert (result.intact, result.first_bad_seq) == (False, 2)


def test_an_entry_rolled_back_with_its_transaction_leaves_no_gap(context: AppContext) -> None:
    write_entries(context, 2)
    with pytest.raises(RuntimeError), context.db.begin() as session:
        audit.record(session, actor=audit.SYSTEM, action="x", at=context.clock.now())
        raise RuntimeError("the act failed, so its audit entry goes too")
    write_entries(context, 1)
    assert verify(context) == audit.VerifyResult(True, 3)


def _rechain(context: AppContext, digest: Any, *, from_seq: int = 1) -> None:
    """Recompute every hash from ``from_seq`` on with ``digest`` and move the tip along:
    what someone who can write the database would do to hide a change."""
    with context.db.begin() as session:
        entries = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
        prev = audit.GENESIS_HASH
        for entry in entries:
            if entry.seq >= from_seq:
                entry.prev_hash = prev
                entry.entry_hash = digest(prev, audit.hashed_fields(entry))
            prev = entry.entry_hash
        session.execute(sa.update(AuditChainHead).values(seq=entries[-1].seq, entry_hash=prev))


def _sha256(prev: str, fields: dict[str, Any]) -> str:
    return audit.entry_digest(prev, fields)


def _guessed_key(prev: str, fields: dict[str, Any]) -> str:
    return audit.entry_digest(prev, fields, hashlib.sha256(b"a guess").digest())


@pytest.mark.parametrize("digest", [_sha256, _guessed_key])
def test_an_entry_rewritten_and_rehashed_without_the_key_is_found(
    context: AppContext, digest: Any
) -> None:
    write_entries(context, 5)
    with context.engine.begin() as connection:
        connection.execute(
            sa.update(AuditEntry).where(AuditEntry.seq == 3).values(actor_name="someone-else")
        )
    _rechain(context, digest, from_seq=3)
    result = verify(context)
    assert (result.intact, result.first_bad_seq, result.reason) == (False, 3, "entry was altered")


def checkpoint(context: AppContext) -> audit.Checkpoint:
    with context.db() as session:
        return audit.write_checkpoint(session, context.blobs, now=context.clock.now())


def verify_anchored(context: AppContext) -> audit.VerifyResult:
    with context.db() as session:
        return audit.verify(session, blobs=context.blobs)


def test_removing_the_newest_entries_and_rolling_the_tip_back_is_found(
    context: AppContext,
) -> None:
    write_entries(context, 3)
    checkpoint(context)
    write_entries(context, 2)
    assert checkpoint(context).seq == 5
    assert verify_anchored(context) == audit.VerifyResult(True, 5)
    with context.engine.begin() as connection:
        tip = connection.execute(
            sa.select(AuditEntry.entry_hash).where(AuditEntry.seq == 3)
        ).scalar_one()
        connection.execute(sa.delete(AuditEntry).where(AuditEntry.seq > 3))
        connection.execute(sa.update(AuditChainHead).values(seq=3, entry_hash=tip))
    assert verify(context).intact  # the database alone cannot tell
    result = verify_anchored(context)
    assert (result.intact, result.first_bad_seq) == (False, 4)
    assert "checkpoint" in (result.reason or "")


def test_a_checkpoint_must_be_there_and_signed_with_the_key(context: AppContext) -> None:
    write_entries(context, 2)
    context.blobs.delete(audit.CHECKPOINT_LATEST)
    assert not verify_anchored(context).intact
    forged = audit.Checkpoint(1, "f" * 64, "2026-11-18T15:00:00+00:00", "0" * 64)
    context.blobs.put(audit.CHECKPOINT_LATEST, forged.to_bytes())
    result = verify_anchored(context)
    assert not result.intact and "signature" in (result.reason or "")
    context.blobs.put(audit.CHECKPOINT_LATEST, b"not a checkpoint")
    assert not verify_anchored(context).intact
    checkpoint(context)
    assert verify_anchored(context).intact


def test_an_older_checkpoint_never_replaces_a_later_one(context: AppContext) -> None:
    write_entries(context, 2)
    with reading(context.db) as stale:
        stale.get(AuditChainHead, audit.CHAIN_HEAD_ID)  # a session that read the tip at 2
        write_entries(context, 2)
        assert checkpoint(context).seq == 4
        audit.write_checkpoint(stale, context.blobs, now=context.clock.now())
    latest = audit.read_checkpoint(context.blobs)
    assert latest is not None and latest.seq == 4


def _to_legacy(context: AppContext) -> None:
    """The chain as the code before the key wrote it: plain SHA-256."""
    _rechain(context, _sha256)
    with context.engine.begin() as connection:
        connection.execute(sa.update(AuditChainHead).values(scheme=audit.LEGACY))


def test_a_chain_written_before_the_key_is_rekeyed_once_when_it_verifies(
    context: AppContext,
) -> None:
    write_entries(context, 4)
    _to_legacy(context)
    assert verify(context) == audit.VerifyResult(True, 4)
    with context.db() as session:
        legacy = [entry.entry_hash for entry in session.scalars(sa.select(AuditEntry))]
    bootstrap(context)
    with context.db() as session:
        head = session.get(AuditChainHead, audit.CHAIN_HEAD_ID)
        assert head is not None and head.scheme == audit.KEYED
        entries = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [entry.entry_hash for entry in entries][:4] != legacy
    assert entries[-1].action == "audit.rekey" and entries[-1].detail == {"entries": 4}
    assert verify_anchored(context) == audit.VerifyResult(True, 5)
    bootstrap(context)  # once only
    assert verify_anchored(context) == audit.VerifyResult(True, 5)
    # From here on, the old recipe no longer mends a change.
    with context.engine.begin() as connection:
        connection.execute(sa.update(AuditEntry).where(AuditEntry.seq == 2).values(outcome="x"))
    _rechain(context, _sha256, from_seq=2)
    assert verify(context).first_bad_seq == 2


def test_a_tampered_chain_is_not_rekeyed(context: AppContext) -> None:
    write_entries(context, 3)
    _to_legacy(context)
    with context.engine.begin() as connection:
        connection.execute(sa.update(AuditEntry).where(AuditEntry.seq == 2).values(outcome="x"))
    bootstrap(context)
    with context.db() as session:
        head = session.get(AuditChainHead, audit.CHAIN_HEAD_ID)
        assert head is not None and head.scheme == audit.LEGACY
    assert verify(context).first_bad_seq == 2
