"""temporary passwords and last sign-in on staff accounts; the IVR line's hours and welcome

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(
            sa.Column("password_temporary_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "ivr_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.String(length=400), nullable=True),
        sa.Column("welcome_en", sa.String(length=300), nullable=True),
        sa.Column("welcome_es", sa.String(length=300), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_line")),
    )


def downgrade() -> None:
    op.drop_table("ivr_line")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("last_sign_in_at")
        batch.drop_column("password_temporary_until")
