"""Key rotation without downtime, and re-wrapping under a new master key.

Rotation: a new data key becomes active and the old ones retire (they still open what
they sealed). Every sealed column the personal-data registry names is then re-sealed
under the new key in small batches, each its own transaction, so webhooks and staff
keep working throughout. Processes re-read the active key every minute, so a second
sweep after that settles catches any value another process sealed with the old key
meanwhile. Only when no value is left under a retired key is that key destroyed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.personal_data import Registry, Sealed
from storage.crypto import Keyring, MasterKey
from storage.keystore import EncryptionKey

BATCH = 500


def _sealed_values(
    db: sessionmaker[Session], sealed: Sealed
) -> Iterator[list[tuple[int, str, bytes | None]]]:
    after = 0
    while True:
        with db() as session:
            batch = [
                (int(pk), str(key), value)
                for pk, key, value in session.execute(sealed.rows(after=after, limit=BATCH))
            ]
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def start_rotation(session: Session, keyring: Keyring, *, now: datetime) -> int:
    """Retire the active data key(s) and make a new one active; returns its id."""
    session.execute(
        update(EncryptionKey)
        .where(EncryptionKey.purpose == "data", EncryptionKey.state == "active")
        .values(state="retired", retired_at=now)
    )
    key = EncryptionKey(
        purpose="data",
        state="active",
        wrapped_key=keyring.new_wrapped_data_key(),
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key.id


def reseal(db: sessionmaker[Session], keyring: Keyring, registry: Registry) -> dict[str, int]:
    """Re-seal every value not under the active key, batch by batch; counts per column."""
    keyring.forget()
    active = keyring.active_data_key_id()
    counts: dict[str, int] = {}
    for sealed in registry.sealed():
        done = 0
        model, column = sealed.model, sealed.column
        for batch in _sealed_values(db, sealed):
            with db.begin() as session:
                for pk, row_key, value in batch:
                    if value is None or Keyring.key_id_of(value) == active:
                        continue
                    place = sealed.place(row_key)
                    fresh = keyring.seal(keyring.open(value, place), place, screened=False)
                    # Only if unchanged meanwhile; a value rewritten by others is checked again.
                    result = session.execute(
                        update(model)
                        .where(model.id == pk, column == value)
                        .values({column.key: fresh})
                    )
                    done += int(getattr(result, "rowcount", 0) or 0)
        counts[sealed.name] = done
    return counts


def values_under_retired_keys(
    db: sessionmaker[Session], keyring: Keyring, registry: Registry
) -> int:
    with db() as session:
        retired = set(
            session.scalars(
                select(EncryptionKey.id).where(
                    EncryptionKey.purpose == "data", EncryptionKey.state == "retired"
                )
            )
        )
    left = 0
    for sealed in registry.sealed():
        for batch in _sealed_values(db, sealed):
            left += sum(
                1 for _pk, _key, value in batch if value and Keyring.key_id_of(value) in retired
            )
    return left


def finish_rotation(session: Session, *, now: datetime) -> list[int]:
    """Destroy the retired data keys (call only when nothing is sealed under them)."""
    retired = list(
        session.scalars(
            select(EncryptionKey).where(
                EncryptionKey.purpose == "data", EncryptionKey.state == "retired"
            )
        )
    )
    for key in retired:
        key.state, key.wrapped_key = "destroyed", None
        key.retired_at = key.retired_at or now
    session.flush()
    return [key.id for key in retired]


def rewrap(session: Session, old: MasterKey, new: MasterKey, registry: Registry) -> int:
    """Re-wrap every stored key (data keys, the index root, every per-row key the
    registry names) under a new master key; returns how many."""
    count = 0
    for wrapped in registry.wrapped_keys():
        model, column = wrapped.column.class_, wrapped.column
        for row in session.scalars(select(model).where(column.is_not(None))):
            plain = old.unwrap(getattr(row, column.key), purpose=wrapped.purpose)
            setattr(row, column.key, new.wrap(plain, purpose=wrapped.purpose))
            count += 1
    for key in session.scalars(select(EncryptionKey).where(EncryptionKey.wrapped_key.is_not(None))):
        assert key.wrapped_key is not None
        key.wrapped_key = new.wrap(
            old.unwrap(key.wrapped_key, purpose=key.purpose), purpose=key.purpose
        )
        count += 1
    session.flush()
    return count


# -- the operator's use cases ----------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    new_key: int
    resealed_first: int
    resealed_after_settling: int
    left_under_retired: int
    destroyed: list[int]


def rotate_keys(
    context: AppContext, actor: Actor, *, settle_seconds: float, say: Callable[[str], None]
) -> Rotation:
    """A new data key, every sealed value re-sealed under it (twice: once at once, once
    after other processes have had time to pick the new key up), and only then the old
    keys destroyed. Both ends are audited; the old keys stay when anything is left."""
    registry = context.part(Registry)
    with unit_of_work(context, actor, "keys.rotate", object_type="encryption_key") as work:
        new_key = start_rotation(work.session, context.keyring, now=work.now)
        work.object_id, work.outcome = str(new_key), "started"
    first = sum(reseal(context.db, context.keyring, registry).values())
    say(f"new data key {new_key}; re-sealed {first} values")
    # Other processes pick up the new key within the keyring's refresh interval.
    time.sleep(settle_seconds)
    second = sum(reseal(context.db, context.keyring, registry).values())
    left = values_under_retired_keys(context.db, context.keyring, registry)
    if left:
        return Rotation(new_key, first, second, left, [])
    with unit_of_work(
        context, actor, "keys.rotate", object_type="encryption_key", object_id=str(new_key)
    ) as work:
        destroyed = finish_rotation(work.session, now=work.now)
        work.outcome = "finished"
        work.note(resealed=first + second, destroyed=destroyed)
    return Rotation(new_key, first, second, 0, destroyed)


def rewrap_keys(context: AppContext, actor: Actor, new_master: MasterKey) -> int:
    """Re-wrap every stored key under ``new_master``; returns how many (audited)."""
    with unit_of_work(context, actor, "keys.rewrap", object_type="encryption_key") as work:
        count = rewrap(work.session, context.keyring.master, new_master, context.part(Registry))
        work.note(keys=count)
        return count
