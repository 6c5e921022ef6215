"""intent_corrections: the right intent for a visitor message, chosen by staff in the console

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intent_corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("predicted_intent", sa.String(255), nullable=True),
        sa.Column("corrected_intent", sa.String(255), nullable=False),
        sa.Column("corrected_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", name="uq_intent_corrections_event_id"),
    )
    op.create_index("ix_intent_corrections_conversation_id", "intent_corrections", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("intent_corrections")
