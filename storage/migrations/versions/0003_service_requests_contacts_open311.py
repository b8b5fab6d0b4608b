"""service requests, catalogue, contacts, open311 keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:41:48.725150
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_keys_key_hash")),
    )
    op.create_table(
        "service_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=False),
        sa.Column("group", sa.String(length=80), nullable=False),
        sa.Column("keywords", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_types")),
        sa.UniqueConstraint("code", name=op.f("uq_service_types_code")),
    )
    op.create_table(
        "service_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("address_key", sa.String(length=255), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_notes", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("possible_duplicates", sa.JSON(), nullable=False),
        sa.Column("open311_token", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_service_requests_created_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["service_types.code"],
            name=op.f("fk_service_requests_service_code_service_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_requests")),
        sa.UniqueConstraint("open311_token", name=op.f("uq_service_requests_open311_token")),
        sa.UniqueConstraint("public_id", name=op.f("uq_service_requests_public_id")),
    )
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_requests_address_key"), ["address_key"], unique=False
        )
        batch_op.create_index("ix_service_requests_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_service_requests_service_created", ["service_code", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_requests_status_updated", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "request_calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_request_calls_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_calls")),
        sa.UniqueConstraint(
            "request_id", "call_sid", name=op.f("uq_request_calls_request_id_call_sid")
        ),
    )
    with op.batch_alter_table("request_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_calls_call_sid"), ["call_sid"], unique=False)

    op.create_table(
        "request_contacts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("phone_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.LargeBinary(), nullable=True),
        sa.Column("email_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("email_index", sa.LargeBinary(), nullable=True),
        sa.Column("address_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("address_index", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_request_contacts_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_contacts")),
        sa.UniqueConstraint("request_id", name=op.f("uq_request_contacts_request_id")),
    )
    with op.batch_alter_table("request_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_contacts_address_index"), ["address_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_request_contacts_email_index"), ["email_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_request_contacts_phone_index"), ["phone_index"], unique=False
        )

    op.create_table(
        "request_status_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_request_status_changes_changed_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_request_status_changes_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_status_changes")),
    )
    with op.batch_alter_table("request_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_status_changes_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "contact_name_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("token_index", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["request_contacts.id"],
            name=op.f("fk_contact_name_tokens_contact_id_request_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_name_tokens")),
        sa.UniqueConstraint(
            "contact_id", "token_index", name=op.f("uq_contact_name_tokens_contact_id_token_index")
        ),
    )
    with op.batch_alter_table("contact_name_tokens", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_name_tokens_token_index", ["token_index", "contact_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_name_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_name_tokens_token_index")

    op.drop_table("contact_name_tokens")
    with op.batch_alter_table("request_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_status_changes_request_id"))

    op.drop_table("request_status_changes")
    with op.batch_alter_table("request_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_contacts_phone_index"))
        batch_op.drop_index(batch_op.f("ix_request_contacts_email_index"))
        batch_op.drop_index(batch_op.f("ix_request_contacts_address_index"))

    op.drop_table("request_contacts")
    with op.batch_alter_table("request_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_calls_call_sid"))

    op.drop_table("request_calls")
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_service_requests_status_updated")
        batch_op.drop_index("ix_service_requests_service_created")
        batch_op.drop_index("ix_service_requests_created_at")
        batch_op.drop_index(batch_op.f("ix_service_requests_address_key"))

    op.drop_table("service_requests")
    op.drop_table("service_types")
    op.drop_table("open311_keys")
