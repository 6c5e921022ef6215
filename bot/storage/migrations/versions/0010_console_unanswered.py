"""console unanswered: the summary's table of unanswered visitor messages (bot/console/summary.py)

The "Unanswered questions" page used to find them in `events` on each request (0.9 s for a year at 2 million
events). Derived data like the rest of the summary: the upgrade sets the summary's watermark back to 0, so the
console's next query rebuilds the whole summary from `events` (≈ 20 s at 2 million events, once). Downgrade drops
the table; the rest of the summary stays valid.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_unanswered",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Float, nullable=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_console_unanswered_at", "console_unanswered", ["at", "event_id"])
    op.execute("UPDATE console_summary_state SET last_event_id = 0, gap_seen_at = NULL")


def downgrade() -> None:
    op.drop_table("console_unanswered")
