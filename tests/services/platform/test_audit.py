"""The audit trail is a hash chain: any changed, removed or reordered entry is found."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.platform import audit
from services.platform.context import AppContext
from services.platform.models import AuditEntry


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
