"""The audit trail: one call, ``record``, for every audited act.

Entries form a keyed hash chain: each carries HMAC-SHA-256, under a key derived from the
master key, of the previous entry's hash and its own canonical fields, so whoever can
write the database but does not hold the master key cannot rewrite an entry and
recompute the rest. The chain's tip lives in a one-row table that every append locks, so
appends from many processes stay in one order. The tip is also anchored outside the
database: signed checkpoints (``write_checkpoint``) go to the blob store on a schedule
and on every seal, so deleting the newest entries and rolling the tip back is found by
``verify`` too (Crosby and Wallach's tamper-evident logs; Certificate Transparency's
signed tree heads).

Chains written before the key existed (scheme ``sha256``) are re-keyed once, at start-up,
after they verify as they are (``key_chain``); see docs/architecture.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.platform.models import AuditChainHead, AuditEntry, AuditSeal
from services.platform.queries import in_period
from storage.blobs import BlobNotFound, BlobStore
from storage.crypto import Keyring
from storage.upsert import insert_ignoring_conflicts

log = logging.getLogger("switchboard.audit")

GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1
KEYED = "hmac-sha256"  # the chain's scheme since the key came
LEGACY = "sha256"  # chains written before: re-keyed at start-up by ``key_chain``
CHECKPOINT_LATEST = "audit/checkpoints/latest.json"
_KEYS_INFO = "switchboard.audit_chain_keys"


@dataclass(frozen=True)
class ChainKeys:
    """The chain's keys, both derived (HKDF) from the index root key that only the master
    key unwraps: one for the entries' and seals' hashes, one for signing checkpoints.
    (Re-wrapping under a new master key keeps them; nothing in the database yields them.)"""

    entries: bytes
    checkpoints: bytes

    @classmethod
    def of(cls, keyring: Keyring) -> ChainKeys:
        return cls(keyring.derived_key("audit-chain"), keyring.derived_key("audit-checkpoint"))


def attach_chain_keys(db: sessionmaker[Session], keyring: Keyring) -> None:
    """Give every session of ``db`` the chain's keys (looked up when first needed), so
    that whoever appends, seals or verifies hashes with them."""
    cache: list[ChainKeys] = []

    def keys() -> ChainKeys:
        if not cache:
            cache.append(ChainKeys.of(keyring))
        return cache[0]

    info = dict(db.kw.get("info") or {})
    info[_KEYS_INFO] = keys
    db.configure(info=info)


def chain_keys(session: Session) -> ChainKeys:
    """The keys attached to this session's factory; RuntimeError when there are none (a
    chain must never be extended without its key)."""
    provider: Callable[[], ChainKeys] | None = session.info.get(_KEYS_INFO)
    if provider is None:
        raise RuntimeError("this session factory has no audit chain keys (attach_chain_keys)")
    return provider()


def _entry_key(session: Session, scheme: str) -> bytes | None:
    return chain_keys(session).entries if scheme == KEYED else None


@dataclass(frozen=True)
class Actor:
    """Who did it. ``user_id`` is None for the system itself and for anonymous callers."""

    user_id: int | None
    username: str | None
    role: str | None
    request_id: str | None = None


SYSTEM = Actor(user_id=None, username="system", role=None)


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def entry_digest(prev_hash: str, fields: dict[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA-256 under ``key`` (SHA-256 for a chain written before the key) of the
    previous hash and the canonical fields."""
    data = (prev_hash + _canonical(fields)).encode("utf-8")
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    """The fields an entry's hash covers, as they read back from the database."""
    return {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "detail": entry.detail,
    }


def ensure_chain(session: Session) -> None:
    """Create the chain's tip row if this database has none yet."""
    insert_ignoring_conflicts(
        session,
        AuditChainHead,
        {"id": CHAIN_HEAD_ID, "seq": 0, "entry_hash": GENESIS_HASH, "scheme": KEYED},
        conflict_columns=["id"],
    )


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    at: datetime,
    outcome: str = "ok",
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction; it commits or rolls back with it.

    ``detail`` holds ids, counts and keyed hashes only, never personal data.
    """
    head = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.entry_hash, AuditChainHead.scheme)
    ).one_or_none()
    if head is None:
        ensure_chain(session)
        return record(
            session,
            actor=actor,
            action=action,
            at=at,
            outcome=outcome,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
    seq, prev_hash, scheme = head
    entry = AuditEntry(
        seq=seq,
        occurred_at=at,
        actor_id=actor.user_id,
        actor_name=actor.username,
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        request_id=actor.request_id,
        detail=dict(detail or {}),
        prev_hash=prev_hash,
        entry_hash="",
    )
    entry.entry_hash = entry_digest(prev_hash, hashed_fields(entry), _entry_key(session, scheme))
    session.add(entry)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .values(entry_hash=entry.entry_hash)
    )
    session.flush()
    return entry


# -- month seals --------------------------------------------------------------------


def month_of(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m")


def _month_start(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=UTC)


month_start = _month_start


def _next_month(month: str) -> str:
    start = _month_start(month)
    return month_of((start + timedelta(days=32)).replace(day=1))


def _scheme(session: Session) -> str:
    head = session.get(AuditChainHead, CHAIN_HEAD_ID)
    return head.scheme if head is not None else KEYED


def seal_digest(prev_seal_hash: str, seal: AuditSeal, key: bytes | None = None) -> str:
    fields = {
        "month": seal.month,
        "first_seq": seal.first_seq,
        "last_seq": seal.last_seq,
        "entries": seal.entries,
        "first_prev_hash": seal.first_prev_hash,
        "last_hash": seal.last_hash,
    }
    return entry_digest(prev_seal_hash, fields, key)


def _next_to_seal(session: Session) -> tuple[AuditSeal | None, AuditEntry, str] | None:
    """The last seal, the first entry after it and the month that entry's seal would
    cover (never one sealed already); None when no entry is left unsealed."""
    last = session.scalars(select(AuditSeal).order_by(AuditSeal.month.desc()).limit(1)).first()
    after_seq = last.last_seq if last else 0
    first = session.scalars(
        select(AuditEntry).where(AuditEntry.seq > after_seq).order_by(AuditEntry.seq).limit(1)
    ).first()
    if first is None:
        return None
    month = month_of(first.occurred_at)
    if last is not None and month <= last.month:
        month = _next_month(last.month)
    return last, first, month


def seal_months(session: Session, *, now: datetime) -> list[str]:
    """Seal every complete month (in UTC) not yet sealed; returns the months sealed.

    A seal records the month's span of the chain and its last hash, and is itself chained
    to the previous seal, so whole months can later be purged without breaking
    verification of what remains.
    """
    sealed: list[str] = []
    current = month_of(now)
    key = _entry_key(session, _scheme(session))
    while True:
        unsealed = _next_to_seal(session)
        if unsealed is None:
            return sealed
        last, first, month = unsealed
        if month >= current:
            return sealed
        end = _month_start(_next_month(month))
        tail = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq >= first.seq, AuditEntry.occurred_at < end)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).first()
        assert tail is not None  # first itself qualifies
        seal = AuditSeal(
            month=month,
            first_seq=first.seq,
            last_seq=tail.seq,
            entries=tail.seq - first.seq + 1,
            first_prev_hash=first.prev_hash,
            last_hash=tail.entry_hash,
            prev_seal_hash=last.seal_hash if last else GENESIS_HASH,
            seal_hash="",
            sealed_at=now,
        )
        seal.seal_hash = seal_digest(seal.prev_seal_hash, seal, key)
        session.add(seal)
        session.flush()
        sealed.append(month)


def seal_overdue(session: Session, *, now: datetime) -> float:
    """Seconds since the first complete month with unsealed entries ended (0 when every
    complete month is sealed): what the "audit seal overdue" alert watches."""
    unsealed = _next_to_seal(session)
    if unsealed is None:
        return 0.0
    _, _, month = unsealed
    ended = _month_start(_next_month(month))
    return max(0.0, (now - ended).total_seconds())


def purge_sealed_months(session: Session, *, before: str, now: datetime) -> int:
    """Delete the entries of sealed months earlier than ``before`` ("YYYY-MM"), keeping
    their seals; returns how many entries went. Months not yet sealed are left alone."""
    deleted = 0
    seals = session.scalars(
        select(AuditSeal)
        .where(AuditSeal.month < before, AuditSeal.purged_at.is_(None))
        .order_by(AuditSeal.month)
    ).all()
    for seal in seals:
        result = session.execute(
            delete(AuditEntry).where(AuditEntry.seq.between(seal.first_seq, seal.last_seq))
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
        seal.purged_at = now
    session.flush()
    return deleted


@dataclass(frozen=True)
class VerifyResult:
    intact: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


class _Broken(Exception):
    def __init__(self, seq: int | None, reason: str, checked: int = 0) -> None:
        super().__init__(reason)
        self.result = VerifyResult(False, checked, seq, reason)


def _check_seals(seals: list[AuditSeal], key: bytes | None) -> tuple[str, int]:
    """Check the seals' own chain; return where the remaining entries must pick up (the
    hash and seq after the leading purged months)."""
    prev_seal = GENESIS_HASH
    for seal in seals:
        if seal.prev_seal_hash != prev_seal or seal.seal_hash != seal_digest(prev_seal, seal, key):
            raise _Broken(seal.first_seq, f"the seal of {seal.month} was altered")
        prev_seal = seal.seal_hash
    prev_hash, expected_seq = GENESIS_HASH, 1
    for seal in seals:
        if seal.purged_at is None:
            break
        if seal.first_seq != expected_seq or seal.first_prev_hash != prev_hash:
            raise _Broken(seal.first_seq, f"the seal of {seal.month} does not follow")
        prev_hash, expected_seq = seal.last_hash, seal.last_seq + 1
    return prev_hash, expected_seq


def _anchor(session: Session, blobs: BlobStore | None) -> Checkpoint | None:
    """The checkpoint to verify against (None without a blob store); _Broken when the
    store holds none, or one not signed with the key."""
    if blobs is None:
        return None
    anchor = read_checkpoint(blobs)
    if anchor is None:
        raise _Broken(None, "the blob store holds no checkpoint of the chain")
    if not anchor.signed_by(chain_keys(session)):
        raise _Broken(anchor.seq, "the checkpoint's signature does not match")
    return anchor


def verify(
    session: Session,
    *,
    batch: int = 5000,
    blobs: BlobStore | None = None,
) -> VerifyResult:
    """Check the seals' chain, then walk the entries that remain in order; report the
    first entry that was changed, removed or moved. With ``blobs``, the chain must also
    reach the latest signed checkpoint there, holding the very entry it names: a
    checkpoint that is missing, unsigned or not reached (the newest entries deleted and
    the tip rolled back) breaks the trail too."""
    key = _entry_key(session, _scheme(session))
    seals = list(session.scalars(select(AuditSeal).order_by(AuditSeal.month)))
    anchored_hash: str | None = None
    try:
        anchor = _anchor(session, blobs)
        prev_hash, expected_seq = _check_seals(seals, key)
        stray = session.scalar(select(AuditEntry.seq).where(AuditEntry.seq < expected_seq).limit(1))
        if stray is not None:
            raise _Broken(stray, "an entry of a purged month is still present")
        ends = {seal.last_seq: seal for seal in seals if seal.purged_at is None}
        checked, last_seq = 0, expected_seq - 1
        while rows := session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all():
            for entry in rows:
                if entry.seq != expected_seq:
                    raise _Broken(expected_seq, "entry missing", checked)
                if entry.prev_hash != prev_hash:
                    raise _Broken(entry.seq, "does not follow the previous entry", checked)
                if entry.entry_hash != entry_digest(prev_hash, hashed_fields(entry), key):
                    raise _Broken(entry.seq, "entry was altered", checked)
                ending = ends.get(entry.seq)
                if ending is not None and ending.last_hash != entry.entry_hash:
                    raise _Broken(entry.seq, f"differs from the seal of {ending.month}", checked)
                if anchor is not None and entry.seq == anchor.seq:
                    anchored_hash = entry.entry_hash
                prev_hash, expected_seq, last_seq = entry.entry_hash, entry.seq + 1, entry.seq
                checked += 1
            session.expunge_all()
        head = session.get(AuditChainHead, CHAIN_HEAD_ID)
        if head is not None and (head.seq != last_seq or head.entry_hash != prev_hash):
            raise _Broken(last_seq + 1, "entries after this point were removed", checked)
        if anchor is not None:
            _check_anchor(anchor, seals, last_seq, anchored_hash, checked)
    except _Broken as broken:
        return broken.result
    return VerifyResult(True, checked)


def _check_anchor(
    anchor: Checkpoint, seals: list[AuditSeal], last_seq: int, found: str | None, checked: int
) -> None:
    if anchor.seq > last_seq:
        raise _Broken(
            last_seq + 1,
            f"entries up to {anchor.seq}, which the checkpoint of {anchor.at} holds, were removed",
            checked,
        )
    purged = [seal for seal in seals if seal.purged_at is not None]
    if purged and anchor.seq <= purged[-1].last_seq:
        return  # its month is gone, by schedule; the seals' chain vouches for it
    if anchor.seq > 0 and found != anchor.entry_hash:
        raise _Broken(anchor.seq, "differs from the signed checkpoint", checked)


# -- checkpoints: the chain's tip, signed, outside the database ------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The chain's tip at one moment, signed with the checkpoint key."""

    seq: int
    entry_hash: str
    at: str
    signature: str = ""

    def _fields(self) -> dict[str, Any]:
        return {"version": 1, "seq": self.seq, "entry_hash": self.entry_hash, "at": self.at}

    def signed(self, keys: ChainKeys) -> Checkpoint:
        mac = hmac.new(keys.checkpoints, _canonical(self._fields()).encode(), hashlib.sha256)
        return Checkpoint(self.seq, self.entry_hash, self.at, mac.hexdigest())

    def signed_by(self, keys: ChainKeys) -> bool:
        return hmac.compare_digest(self.signed(keys).signature, self.signature)

    def to_bytes(self) -> bytes:
        return _canonical({**self._fields(), "signature": self.signature}).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint | None:
        try:
            fields = json.loads(data)
            return cls(
                int(fields["seq"]),
                str(fields["entry_hash"]),
                str(fields["at"]),
                str(fields["signature"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def read_checkpoint(blobs: BlobStore) -> Checkpoint | None:
    """The latest checkpoint in the blob store (None when there is none, or it is not
    one: a garbled checkpoint does not verify either)."""
    try:
        data = blobs.get(CHECKPOINT_LATEST)
    except BlobNotFound:
        return None
    return Checkpoint.from_bytes(data) or Checkpoint(-1, "", "", "")


def write_checkpoint(session: Session, blobs: BlobStore, *, now: datetime) -> Checkpoint:
    """Sign the chain's committed tip and write it to the blob store: as the latest (never
    replacing a later one) and under its own sequence number. Call it with a session
    that sees only committed entries, after the transaction that added them."""
    head = session.get(AuditChainHead, CHAIN_HEAD_ID)
    seq, tip = (head.seq, head.entry_hash) if head is not None else (0, GENESIS_HASH)
    keys = chain_keys(session)
    checkpoint = Checkpoint(seq, tip, now.astimezone(UTC).isoformat()).signed(keys)
    blobs.put(f"audit/checkpoints/{seq:020d}.json", checkpoint.to_bytes())
    latest = read_checkpoint(blobs)
    if latest is None or not latest.signed_by(keys) or latest.seq <= seq:
        blobs.put(CHECKPOINT_LATEST, checkpoint.to_bytes())
    return checkpoint


# -- moving a chain written before the key onto it -----------------------------------


class ChainBroken(Exception):
    """A chain to be re-keyed does not verify as it is: re-keying it would launder the
    tampering, so it is left for ``audit verify`` to report."""


def key_chain(session: Session, *, batch: int = 5000) -> int | None:
    """Re-hash a chain written before the key (scheme ``sha256``) under the key, in the
    caller's transaction, after checking it as it is; returns how many entries were
    re-hashed, or None when the chain is keyed already. ChainBroken if it does not
    verify. Purged months keep their seals' recorded hashes (the entries are gone); the
    seals' own chain and every remaining entry are re-hashed, so from here on only the
    key holder can extend or rewrite any of it."""
    head = session.scalars(
        select(AuditChainHead).where(AuditChainHead.id == CHAIN_HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None or head.scheme == KEYED:
        return None
    before = verify(session, batch=batch)
    if not before.intact:
        raise ChainBroken(f"entry {before.first_bad_seq}: {before.reason}")
    head = session.get(AuditChainHead, CHAIN_HEAD_ID)  # verify let go of what it read
    assert head is not None
    key = chain_keys(session).entries
    seals = list(session.scalars(select(AuditSeal).order_by(AuditSeal.month)))
    prev_hash, _ = _check_seals(seals, None)
    starts = {seal.first_seq: seal for seal in seals if seal.purged_at is None}
    ends = {seal.last_seq: seal for seal in seals if seal.purged_at is None}
    count, last_seq = 0, 0
    while rows := session.scalars(
        select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
    ).all():
        for entry in rows:
            if entry.seq in starts:
                starts[entry.seq].first_prev_hash = prev_hash
            entry.prev_hash = prev_hash
            entry.entry_hash = entry_digest(prev_hash, hashed_fields(entry), key)
            if entry.seq in ends:
                ends[entry.seq].last_hash = entry.entry_hash
            prev_hash, last_seq = entry.entry_hash, entry.seq
            count += 1
        session.flush()
    prev_seal = GENESIS_HASH
    for seal in seals:
        seal.prev_seal_hash = prev_seal
        seal.seal_hash = seal_digest(prev_seal, seal, key)
        prev_seal = seal.seal_hash
    head.entry_hash = prev_hash
    head.scheme = KEYED
    session.flush()
    return count


# -- reading the trail -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    actor_id: int | None = None
    actor_name: str | None = None  # the staff member's username, case-insensitive
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


def actions_recorded(session: Session) -> list[str]:
    """The actions the trail holds, for a filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def search(session: Session, query: AuditQuery) -> list[AuditEntry]:
    """Entries matching ``query``, newest first; page on with ``before_seq``."""
    statement = select(AuditEntry)
    if query.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == query.actor_id)
    if query.actor_name is not None:
        statement = statement.where(AuditEntry.actor_name == query.actor_name.strip().lower())
    if query.action is not None:
        statement = statement.where(AuditEntry.action == query.action)
    if query.object_type is not None:
        statement = statement.where(AuditEntry.object_type == query.object_type)
    if query.object_id is not None:
        statement = statement.where(AuditEntry.object_id == query.object_id)
    statement = in_period(statement, AuditEntry.occurred_at, query.since, query.until)
    if query.before_seq is not None:
        statement = statement.where(AuditEntry.seq < query.before_seq)
    return list(session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(query.limit)))
