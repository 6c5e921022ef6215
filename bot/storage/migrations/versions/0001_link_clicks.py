"""link_clicks: one row per click on a link the assistant gave (/go/<name>)

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_clicks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_link_clicks_link", "link_clicks", ["link"])
    op.create_index("ix_link_clicks_conversation_id", "link_clicks", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("link_clicks")
