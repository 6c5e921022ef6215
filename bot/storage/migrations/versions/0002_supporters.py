"""newsletter_records, enquiries and outbox: what supporters leave with the assistant, and its delivery

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "newsletter_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("first_name", sa.String(255), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("consent_text", sa.Text, nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('subscribe', 'unsubscribe')", name="ck_newsletter_records_action"),
    )
    op.create_index("ix_newsletter_records_email", "newsletter_records", ["email"])
    op.create_index("ix_newsletter_records_conversation_id", "newsletter_records", ["conversation_id"])

    op.create_table(
        "enquiries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('fundraiser', 'media', 'message')", name="ck_enquiries_kind"),
    )
    op.create_index("ix_enquiries_kind", "enquiries", ["kind"])
    op.create_index("ix_enquiries_conversation_id", "enquiries", ["conversation_id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        sa.CheckConstraint("record_type IN ('newsletter', 'enquiry')", name="ck_outbox_record_type"),
        sa.CheckConstraint(
            "destination IN ('newsletter_webhook', 'leads_webhook', 'team_email')", name="ck_outbox_destination"
        ),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_outbox_status"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("enquiries")
    op.drop_table("newsletter_records")
