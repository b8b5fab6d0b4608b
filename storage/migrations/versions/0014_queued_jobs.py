"""queued jobs: the transactional outbox and the job leases

Revision ID: 0014
Revises: 0007
Create Date: 2026-11-30 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queued_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queued_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_queued_jobs_dedupe_key")),
    )
    with op.batch_alter_table("queued_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queued_jobs_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_queued_jobs_lease_until"), ["lease_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("queued_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queued_jobs_lease_until"))
        batch_op.drop_index(batch_op.f("ix_queued_jobs_due_at"))
    op.drop_table("queued_jobs")
