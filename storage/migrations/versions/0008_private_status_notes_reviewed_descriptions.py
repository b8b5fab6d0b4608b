"""status notes private by default; descriptions reviewed for the public feed

Until now a status note was published on the public Open311 feed unless someone said
otherwise, and nothing in the console said so. Which notes were published on purpose
cannot be told apart, so every existing note becomes private (kept in the history,
withdrawn from the feed); staff publish again the ones they mean to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_description", sa.Text(), nullable=True))
    op.execute(sa.text("UPDATE service_requests SET status_notes = NULL"))
    op.execute(
        sa.text("UPDATE request_status_changes SET public = :private").bindparams(private=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.drop_column("public_description")
