"""The app's own tables (beside Rasa's `events`), in the same DATABASE_URL. Their schema changes only
through the Alembic migrations in bot/storage/migrations/."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

link_clicks = sa.Table(
    "link_clicks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("link", sa.String(64), nullable=False, index=True),
    # As sent in the link's `c` parameter: used for counting only, never trusted for anything else.
    sa.Column("conversation_id", sa.String(255), nullable=True, index=True),
    sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
)


def create_engine(url: str) -> sa.engine.Engine:
    return sa.create_engine(url, future=True, pool_pre_ping=True)
