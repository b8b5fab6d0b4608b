"""appointments and texts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 11:41:30.000608
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_texts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("from_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("from_index", sa.LargeBinary(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("keyword", sa.String(length=16), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_texts")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_inbound_texts_message_sid")),
    )
    with op.batch_alter_table("inbound_texts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_texts_from_index"), ["from_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_texts_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "text_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_index", sa.LargeBinary(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_opt_outs")),
        sa.UniqueConstraint("phone_index", name=op.f("uq_text_opt_outs_phone_index")),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=False),
        sa.Column("phone_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("phone_index", sa.LargeBinary(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_by_id", sa.Integer(), nullable=True),
        sa.Column("consent_call_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_by_id"],
            ["staff_users.id"],
            name=op.f("fk_appointments_consent_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_appointments_created_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_appointments_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("public_id", name=op.f("uq_appointments_public_id")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointments_phone_index"), ["phone_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointments_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index("ix_appointments_starts_at", ["starts_at"], unique=False)

    op.create_table(
        "text_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column(
            "appointment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("to_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("to_index", sa.LargeBinary(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=True),
        sa.Column("message_sid", sa.String(length=64), nullable=True),
        sa.Column("twilio_status", sa.String(length=16), nullable=True),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("failure", sa.String(length=120), nullable=True),
        sa.Column("sending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_text_messages_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_text_messages_idempotency_key")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_text_messages_message_sid")),
    )
    with op.batch_alter_table("text_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_messages_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index("ix_text_messages_state_due", ["state", "not_before"], unique=False)
        batch_op.create_index(batch_op.f("ix_text_messages_to_index"), ["to_index"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("text_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_messages_to_index"))
        batch_op.drop_index("ix_text_messages_state_due")
        batch_op.drop_index(batch_op.f("ix_text_messages_appointment_id"))

    op.drop_table("text_messages")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_starts_at")
        batch_op.drop_index(batch_op.f("ix_appointments_request_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_phone_index"))

    op.drop_table("appointments")
    op.drop_table("text_opt_outs")
    with op.batch_alter_table("inbound_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_texts_received_at"))
        batch_op.drop_index(batch_op.f("ix_inbound_texts_from_index"))

    op.drop_table("inbound_texts")
