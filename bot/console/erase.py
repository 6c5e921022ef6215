"""Erasing one conversation on request: its tracker events and every app row tied to it, then an audit row.

Once its events are gone, a visitor writing again with the same session id starts a fresh conversation
(Rasa's SQL tracker store keeps no copy elsewhere). The console's summary of the conversation (derived from its
events, bot/console/summary.py) and the event stream's rows naming it (bot/stream/) go in the same transaction;
the stream's daily totals, which name no conversation, stay.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.console import summary
from bot.console.accounts import audit
from bot.storage.app_db import (
    conversation_reviews,
    conversation_tags,
    enquiries,
    feedback,
    intent_corrections,
    link_clicks,
    newsletter_records,
    outbox,
    stream_conversations,
)
from bot.stream.fold import forget_conversation as forget_streamed_conversation


def erase_conversation(engine: sa.engine.Engine, conversation_id: str, actor: str) -> dict[str, int]:
    """Delete everything stored about `conversation_id`, in one transaction; returns the rows deleted per table.

    Newsletter records and enquiries go too, with their deliveries still in the outbox (their payloads hold
    the same personal details): erasure wins over a pending delivery.
    """
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        inspector = sa.inspect(connection)
        summarised = inspector.has_table(summary.console_summary_state.name)
        if summarised:  # first, so that the console's summary is not being brought up to date meanwhile
            summary.lock(connection)
        if inspector.has_table("events"):
            counts["events"] = connection.execute(
                sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": conversation_id}
            ).rowcount
        if summarised:  # derived from the events: not counted, but gone with them
            summary.forget_erased(connection, conversation_id)
        if inspector.has_table(stream_conversations.name):  # what `ijm-bot consume` keeps per conversation
            forget_streamed_conversation(connection, conversation_id)
        for record_type, table in (("newsletter", newsletter_records), ("enquiry", enquiries)):
            ids = [
                row.id
                for row in connection.execute(sa.select(table.c.id).where(table.c.conversation_id == conversation_id))
            ]
            if ids:
                counts["outbox"] = (
                    counts.get("outbox", 0)
                    + connection.execute(
                        outbox.delete().where(outbox.c.record_type == record_type, outbox.c.record_id.in_(ids))
                    ).rowcount
                )
            counts[table.name] = connection.execute(table.delete().where(table.c.id.in_(ids))).rowcount if ids else 0
        for table in (link_clicks, feedback, intent_corrections, conversation_reviews, conversation_tags):
            counts[table.name] = connection.execute(
                table.delete().where(table.c.conversation_id == conversation_id)
            ).rowcount
        audit(connection, actor, "conversation.erase", conversation_id[:255], json.dumps(counts, sort_keys=True))
    return counts


def erased_anything(counts: dict[str, int]) -> bool:
    return any(counts.values())
