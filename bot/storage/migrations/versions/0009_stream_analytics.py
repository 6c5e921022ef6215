"""stream analytics: the tables `ijm-bot consume` folds RabbitMQ's stream of Rasa events into (bot/stream/)

Derived data only: they start empty and fill as the consumer reads the queue. Downgrade drops them.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_daily_counts",
        sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("conversations_started", sa.Integer, nullable=False),
        sa.Column("conversations", sa.Integer, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("fallbacks", sa.Integer, nullable=False),
        sa.Column("donation_links", sa.Integer, nullable=False),
        sa.Column("safety_answers", sa.Integer, nullable=False),
    )
    op.create_table(
        "stream_intent_counts",
        sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("intent_name", sa.String(255), primary_key=True),
        sa.Column("messages", sa.Integer, nullable=False),
    )
    op.create_table(
        "stream_conversation_days",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("fallbacks", sa.Integer, nullable=False),
        sa.Column("donation_link", sa.Boolean, nullable=False),
        sa.Column("safety", sa.Boolean, nullable=False),
    )
    op.create_index("ix_stream_conversation_days_day", "stream_conversation_days", ["day"])
    op.create_table(
        "stream_conversations",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("first_day", sa.Integer, nullable=False),
        sa.Column("open_day", sa.Integer, nullable=True),
        sa.Column("open_fallback", sa.Boolean, nullable=False),
    )
    op.create_table(
        "stream_seen_events",
        sa.Column("event_key", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_stream_seen_events_seen_at", "stream_seen_events", ["seen_at"])


def downgrade() -> None:
    for table in (
        "stream_seen_events",
        "stream_conversations",
        "stream_conversation_days",
        "stream_intent_counts",
        "stream_daily_counts",
    ):
        op.drop_table(table)
