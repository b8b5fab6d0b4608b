"""agents' destinations and presence, call offers and attribution, contacts

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-30 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("destination", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("department", sa.String(length=8), nullable=True))
        batch.add_column(
            sa.Column("presence", sa.String(length=16), nullable=False, server_default="away")
        )
        batch.add_column(sa.Column("presence_since", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(batch.f("uq_staff_users_destination"), ["destination"])
        batch.create_index(
            "ix_staff_users_department_presence",
            ["department", "presence", "presence_since"],
            unique=False,
        )
    with op.batch_alter_table("staff_users") as batch:
        batch.alter_column("presence", server_default=None)

    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("agent", sa.String(length=64), nullable=True))
        batch.create_index("ix_calls_agent_started_at", ["agent", "started_at"], unique=False)

    op.create_table(
        "call_offers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("destination", sa.String(length=255), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_call_offers_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_offers")),
    )
    op.create_index("ix_call_offers_call_sid", "call_offers", ["call_sid", "offered_at"])
    op.create_index("ix_call_offers_user_open", "call_offers", ["user_id", "ended_at"])

    op.create_table(
        "contacts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("department", sa.String(length=8), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("transferred_to", sa.String(length=120), nullable=True),
        sa.Column("anonymous_requests", sa.Integer(), nullable=False),
        sa.Column("wrapped_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("phone_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.LargeBinary(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("public_id", name=op.f("uq_contacts_public_id")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_contacts_call_sid")),
        sa.UniqueConstraint("phone_index", "day", name=op.f("uq_contacts_phone_index_day")),
    )
    op.create_index("ix_contacts_started_at", "contacts", ["started_at"])
    op.create_index("ix_contacts_agent_started_at", "contacts", ["agent", "started_at"])
    op.create_index("ix_contacts_phone_index", "contacts", ["phone_index"])

    op.create_table(
        "contact_requests",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_requests_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_contact_requests_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_requests")),
        sa.UniqueConstraint(
            "contact_id", "request_id", name=op.f("uq_contact_requests_contact_id_request_id")
        ),
    )
    op.create_index("ix_contact_requests_request_id", "contact_requests", ["request_id"])

    op.create_table(
        "contact_topics",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_topics_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_topics")),
        sa.UniqueConstraint("contact_id", "code", name=op.f("uq_contact_topics_contact_id_code")),
    )
    op.create_index(
        "ix_contact_topics_kind_started_code", "contact_topics", ["kind", "started_at", "code"]
    )


def downgrade() -> None:
    op.drop_table("contact_topics")
    op.drop_table("contact_requests")
    op.drop_table("contacts")
    op.drop_table("call_offers")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_agent_started_at")
        batch.drop_column("agent")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_index("ix_staff_users_department_presence")
        batch.drop_constraint(batch.f("uq_staff_users_destination"), type_="unique")
        batch.drop_column("presence_since")
        batch.drop_column("presence")
        batch.drop_column("department")
        batch.drop_column("destination")
