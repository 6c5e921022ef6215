"""Reading the stream analytics (the tables `ijm-bot consume` maintains) in the shapes of the console's charts
(bot/console/analytics.py), so the console could read them instead of Rasa's `events` at larger scale.

Per-day charts read stream_daily_counts (one row a day, whatever the traffic); counts of distinct conversations over
a range read stream_conversation_days; top intents read stream_intent_counts.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from bot.console.analytics import TOP_INTENTS, DateRange, Row, day_label, fill_days, share
from bot.storage.app_db import stream_conversation_days, stream_daily_counts, stream_intent_counts

EPOCH = date(1970, 1, 1)


def _bounds(period: DateRange) -> tuple[int, int]:
    return (period.first - EPOCH).days, (period.last - EPOCH).days


def daily_counts(engine: sa.engine.Engine, period: DateRange) -> dict[str, tuple[int, ...]]:
    """day label → (conversations started, conversations, messages, fallbacks, donation links, safety answers)."""
    t = stream_daily_counts
    first, last = _bounds(period)
    query = sa.select(
        t.c.day,
        t.c.conversations_started,
        t.c.conversations,
        t.c.messages,
        t.c.fallbacks,
        t.c.donation_links,
        t.c.safety_answers,
    ).where(t.c.day >= first, t.c.day <= last)
    with engine.connect() as connection:
        return {day_label(row[0]): tuple(int(v) for v in row[1:]) for row in connection.execute(query)}


def conversations_and_messages(engine: sa.engine.Engine, period: DateRange) -> tuple[list[Row], list[Row]]:
    """As the console's: (day, conversations in which the visitor wrote that day), (day, visitor messages)."""
    rows = fill_days(period, daily_counts(engine, period), (0,) * 6)
    return [(day, c) for day, _, c, *_ in rows], [(day, m) for day, _, _, m, *_ in rows]


def fallback_rate(engine: sa.engine.Engine, period: DateRange) -> list[Row]:
    """As the console's: (day, share of visitor messages not understood), None on days without messages."""
    rows = fill_days(period, daily_counts(engine, period), (0,) * 6)
    return [(day, share(f, m)) for day, _, _, m, f, *_ in rows]


def top_intents(engine: sa.engine.Engine, period: DateRange, limit: int = TOP_INTENTS) -> list[Row]:
    """As the console's: (intent, visitor messages), most frequent first (ties by code point)."""
    t = stream_intent_counts
    first, last = _bounds(period)
    n = sa.func.sum(t.c.messages).label("n")
    query = (
        sa.select(t.c.intent_name, n)
        .where(t.c.day >= first, t.c.day <= last)
        .group_by(t.c.intent_name)
        .order_by(n.desc(), t.c.intent_name)
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = [(row.intent_name, int(row.n)) for row in connection.execute(query)]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def distinct_conversations(engine: sa.engine.Engine, period: DateRange, *, donation_link: bool = False) -> int:
    """Conversations with a visitor message in the range (or, with donation_link, shown the donate link in it)."""
    t = stream_conversation_days
    first, last = _bounds(period)
    condition = t.c.donation_link if donation_link else t.c.messages > 0
    query = sa.select(sa.func.count(sa.distinct(t.c.conversation_id))).where(
        t.c.day >= first, t.c.day <= last, condition
    )
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())
