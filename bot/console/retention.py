"""Retention: conversations whose last message is older than RETENTION_DAYS are erased (as on request)."""

from __future__ import annotations

import time

import sqlalchemy as sa

from bot.console.erase import erase_conversation


def expired_conversations(engine: sa.engine.Engine, days: int, now: float | None = None) -> list[str]:
    if not sa.inspect(engine).has_table("events"):
        return []
    cutoff = (now if now is not None else time.time()) - days * 86400
    query = sa.text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff")
    with engine.connect() as connection:
        return list(connection.execute(query, {"cutoff": cutoff}).scalars())


def purge(engine: sa.engine.Engine, days: int, now: float | None = None) -> int:
    """Erase every expired conversation (each erasure audited, by "retention"); returns how many."""
    expired = expired_conversations(engine, days, now)
    for conversation_id in expired:
        erase_conversation(engine, conversation_id, actor="retention")
    return len(expired)
