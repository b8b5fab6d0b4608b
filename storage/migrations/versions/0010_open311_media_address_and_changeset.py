"""Open311: a request's media_url and address_id, and when each service last changed

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-30 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("media_url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("address_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("service_types") as batch:
        batch.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_types") as batch:
        batch.drop_column("changed_at")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("address_id")
        batch.drop_column("media_url")
