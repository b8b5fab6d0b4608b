"""keyed audit chain, second-person approval of staff access, sign-in locks by name,
pending second factors, opt-outs ordered by the carrier's receipt time

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A chain written so far is plain SHA-256; the app re-keys it at its next start
    # (services.platform.audit.key_chain), after checking it, and writes a checkpoint.
    with op.batch_alter_table("audit_chain_head") as batch:
        batch.add_column(
            sa.Column("scheme", sa.String(length=16), nullable=False, server_default="sha256")
        )
    op.create_table(
        "sign_in_locks",
        sa.Column("account_hash", sa.String(length=32), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_hash", name=op.f("pk_sign_in_locks")),
    )
    with op.batch_alter_table("sign_in_locks") as batch:
        batch.create_index(batch.f("ix_sign_in_locks_locked_until"), ["locked_until"], unique=False)
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("totp_pending_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pending_role", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True))
    # Accounts made before the second person was asked for stay in force as they are.
    op.execute("UPDATE staff_users SET approved_at = created_at")
    with op.batch_alter_table("text_opt_outs") as batch:
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_chain_head") as batch:
        batch.drop_column("scheme")
    with op.batch_alter_table("text_opt_outs") as batch:
        batch.drop_column("decided_at")
    with op.batch_alter_table("staff_users") as batch:
        for column in (
            "requested_at",
            "requested_by_id",
            "pending_role",
            "approved_by_id",
            "approved_at",
            "totp_pending_sealed",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("sign_in_locks") as batch:
        batch.drop_index(batch.f("ix_sign_in_locks_locked_until"))
    op.drop_table("sign_in_locks")
