"""console scale: Rasa's events table (if Rasa hasn't made it yet), the console's indexes on it, and the summary

`ijm-bot run` migrates before Rasa starts, so on a fresh database `events` doesn't exist yet: it is made here with
Rasa's own definition (rasa.core.tracker_store.SQLTrackerStore.SQLEvent), which Rasa's create_all then leaves
alone. Its columns stay exactly Rasa's; only indexes of our own (ix_console_...) are added.

The summary tables start empty: the console fills them from `events` on its first query (bot/console/summary.py).

Downgrade drops the summary and the indexes. It drops `events` only when it holds no row: an empty table costs
nothing (Rasa makes it again when it starts), while a table with conversations is Rasa's data, not this
migration's, and a schema downgrade must never lose conversations.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

EVENT_INDEXES = {
    "ix_console_events_type_intent": ["type_name", "intent_name", "sender_id"],
    "ix_console_events_type_action": ["type_name", "action_name", "sender_id"],
}


def upgrade() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    bind = op.get_bind()
    SQLTrackerStore.SQLEvent.__table__.create(bind=bind, checkfirst=True)
    for name, columns in EVENT_INDEXES.items():
        op.create_index(name, "events", columns)

    op.create_table(
        "console_conversations",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("last_at", sa.Float, nullable=True),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("first_message", sa.Text, nullable=True),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("min_confidence", sa.Float, nullable=True),
        sa.Column("donation_link", sa.Boolean, nullable=False),
        sa.Column("safety", sa.Boolean, nullable=False),
        sa.Column("fallback", sa.Boolean, nullable=False),
    )
    op.create_index("ix_console_conversations_last_at", "console_conversations", ["last_at", "conversation_id"])
    op.create_table(
        "console_conversation_days",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("fallbacks", sa.Integer, nullable=False),
        sa.Column("donation_link", sa.Boolean, nullable=False),
    )
    op.create_index("ix_console_conversation_days_day", "console_conversation_days", ["day"])
    op.create_table(
        "console_conversation_intents",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("intent_name", sa.String(255), primary_key=True),
        sa.Column("messages", sa.Integer, nullable=False),
    )
    op.create_index("ix_console_conversation_intents_day", "console_conversation_intents", ["day", "intent_name"])
    op.create_index("ix_console_conversation_intents_intent", "console_conversation_intents", ["intent_name", "day"])
    state = op.create_table(
        "console_summary_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("gap_seen_at", sa.Float, nullable=True),
    )
    op.bulk_insert(state, [{"id": 1, "last_event_id": 0, "gap_seen_at": None}])


def downgrade() -> None:
    for table in (
        "console_summary_state",
        "console_conversation_intents",
        "console_conversation_days",
        "console_conversations",
    ):
        op.drop_table(table)
    bind = op.get_bind()
    if not sa.inspect(bind).has_table("events"):
        return
    present = {index["name"] for index in sa.inspect(bind).get_indexes("events")}
    for name in EVENT_INDEXES:
        if name in present:
            op.drop_index(name, table_name="events")
    if bind.execute(sa.text("SELECT COUNT(*) FROM (SELECT 1 FROM events LIMIT 1) AS any_event")).scalar() == 0:
        op.drop_table("events")
