"""The console's summary of Rasa's `events`: what the conversation list and the statistics read instead of grouping
millions of events on every request (the "Scale" requirement: 100,000 conversations, 2 million events).

Four tables (bot/storage/app_db.py): one row per conversation (console_conversations), per conversation and UTC
day (console_conversation_days), per conversation, day and intent (console_conversation_intents), and per visitor
message that went unanswered (console_unanswered). They are derived data only:

- Kept in step incrementally. Rasa only appends to `events` and ids only grow, so a watermark (the highest event id
  folded in) says what is new. `catch_up` runs before each list and statistics query; when nothing is new it costs
  two primary-key lookups. Otherwise each conversation with new events is summarised again from all its events (a
  few dozen rows, by the sender_id index), so folding is idempotent: doing it twice is harmless.
- Careful with holes. When the new ids are not contiguous (a transaction of another writer still open on
  PostgreSQL, or rows deleted), the watermark waits for GAP_GRACE_SECONDS (folding the new events meanwhile), then
  moves past the hole. An event committed later than that would still be folded when its conversation gets its next
  event, since a conversation is always summarised from all its events.
- Rebuildable: `rebuild` empties the summary and folds every event again; it is also done by itself when `events`
  holds fewer ids than the watermark (the table was emptied or made again).
- Erased with the conversation: erase.py deletes a conversation's summary rows in the same transaction as its
  events, and lowers the watermark to the highest id left (SQLite may reuse the ids of the newest rows deleted).

Writers of the summary (catch_up, rebuild, erasure) first take the lock of the state row, so they never interleave.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.storage.app_db import (
    console_conversation_days,
    console_conversation_intents,
    console_conversations,
    console_summary_state,
    console_unanswered,
)

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
# A visitor message went unanswered when it was classified so, or a fallback action answered it.
UNANSWERED_INTENTS = (FALLBACK_INTENT, OUT_OF_SCOPE_INTENT)
FALLBACK_ACTIONS = ("action_core_fallback", "action_fallback_topics")
SAFETY_ACTION = "action_safety_help"
DONATE_PATH = "/go/donate"  # in an answer that gives the donation link
DONATE_LINK = f"%{DONATE_PATH}%"  # in a bot event's stored JSON (LIKE: as each database compares, like the old SQL)
GAP_GRACE_SECONDS = 30.0
SENDER_BATCH = 500
SUMMARY_TABLES = (console_conversations, console_conversation_days, console_conversation_intents, console_unanswered)

# Every event of some conversations, in order; the JSON only where it is read (visitor messages).
_EVENT_COLUMNS = (
    "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, "
    "CASE WHEN type_name = 'user' THEN data END AS data, "
    "CASE WHEN type_name = 'bot' AND data LIKE :link THEN 1 ELSE 0 END AS link FROM events"
)


def day_number(timestamp: float) -> int:
    """The UTC day (days since 1970-01-01) of an epoch timestamp, as analytics counts days."""
    return int(timestamp // 86_400)


@dataclass
class _Day:
    messages: int = 0
    fallbacks: int = 0
    donation_link: bool = False


@dataclass
class Summary:
    """What the console needs to know about one conversation, folded from its events in id order."""

    conversation_id: str
    started_at: float | None = None
    last_at: float | None = None
    messages: int = 0
    first_message: str | None = None
    texts: list[str] = field(default_factory=list)
    min_confidence: float | None = None
    donation_link: bool = False
    safety: bool = False
    fallback: bool = False
    days: dict[int, _Day] = field(default_factory=dict)
    intents: dict[tuple[int, str], int] = field(default_factory=dict)
    # (events.id, timestamp, text) of the visitor messages that went unanswered
    unanswered: list[tuple[int, float | None, str]] = field(default_factory=list)
    # the visitor's latest message (its day), until a fallback action answers it or the next one comes
    _open_message: tuple[int | None, bool] | None = None
    # ... and the same message for `unanswered`, until it is listed there
    _open_unanswered: tuple[int, float | None, str] | None = None

    def add(self, row: Any) -> None:
        ts = row.timestamp
        day = day_number(ts) if ts is not None else None
        if ts is not None:
            self.started_at = ts if self.started_at is None else min(self.started_at, ts)
            self.last_at = ts if self.last_at is None else max(self.last_at, ts)
        if row.type_name == "user":
            self._user(row, day)
        elif row.type_name == "action":
            if row.action_name in FALLBACK_ACTIONS:
                self.fallback = True
                if self._open_message is not None and not self._open_message[1]:
                    if self._open_message[0] is not None:
                        self.days[self._open_message[0]].fallbacks += 1
                    self._open_message = (self._open_message[0], True)
                self._list_open_message_as_unanswered()
            elif row.action_name == SAFETY_ACTION:
                self.safety = True
        elif row.type_name == "bot" and row.link:
            self.donation_link = True
            if day is not None:
                self.days.setdefault(day, _Day()).donation_link = True

    def _user(self, row: Any, day: int | None) -> None:
        self.messages += 1
        text, confidence = _text_and_confidence(row.data)
        if self.first_message is None:
            self.first_message = text
        if text:
            self.texts.append(text.lower())
        if confidence is not None and (self.min_confidence is None or confidence < self.min_confidence):
            self.min_confidence = confidence
        not_understood = row.intent_name == FALLBACK_INTENT
        self.fallback = self.fallback or not_understood
        if day is not None:
            counts = self.days.setdefault(day, _Day())
            counts.messages += 1
            counts.fallbacks += int(not_understood)
            if row.intent_name is not None:
                self.intents[(day, row.intent_name)] = self.intents.get((day, row.intent_name), 0) + 1
        self._open_message = (day, not_understood)
        self._open_unanswered = (row.id, row.timestamp, text) if text.strip() else None
        if row.intent_name in UNANSWERED_INTENTS:
            self._list_open_message_as_unanswered()

    def _list_open_message_as_unanswered(self) -> None:
        if self._open_unanswered is not None:
            self.unanswered.append(self._open_unanswered)
            self._open_unanswered = None

    def rows(self) -> tuple[dict, list[dict], list[dict], list[dict]]:
        conversation = {
            "conversation_id": self.conversation_id,
            "started_at": self.started_at,
            "last_at": self.last_at,
            "messages": self.messages,
            "first_message": self.first_message,
            "search_text": "\n".join(self.texts),
            "min_confidence": self.min_confidence,
            "donation_link": self.donation_link,
            "safety": self.safety,
            "fallback": self.fallback,
        }
        days = [
            {"conversation_id": self.conversation_id, "day": day, "messages": c.messages, "fallbacks": c.fallbacks,
             "donation_link": c.donation_link}
            for day, c in self.days.items()
        ]  # fmt: skip
        intents = [
            {"conversation_id": self.conversation_id, "day": day, "intent_name": intent, "messages": n}
            for (day, intent), n in self.intents.items()
        ]
        unanswered = [
            {"conversation_id": self.conversation_id, "event_id": event_id, "at": at, "text": text}
            for event_id, at, text in self.unanswered
        ]
        return conversation, days, intents, unanswered


def _text_and_confidence(data: str | None) -> tuple[str, float | None]:
    """A visitor message's text ("" when there is none) and its NLU confidence, from the stored JSON."""
    try:
        event = json.loads(data or "{}")
    except ValueError:
        return "", None
    if not isinstance(event, dict):
        return "", None
    text = str(event.get("text") or "").replace("\x00", "")
    intent = (event.get("parse_data") or {}).get("intent") if isinstance(event.get("parse_data"), dict) else None
    confidence = intent.get("confidence") if isinstance(intent, dict) else None
    if isinstance(confidence, bool) or confidence is None:
        return text, None
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        return text, None
    return text, value if math.isfinite(value) else None


def summarise(rows: Iterable[Any]) -> Iterator[Summary]:
    """Summaries of the conversations in `rows` (events ordered by sender_id, then id)."""
    for sender_id, events in itertools.groupby(rows, key=lambda row: row.sender_id):
        summary = Summary(sender_id)
        for row in events:
            summary.add(row)
        yield summary


def _has_summary(connection: sa.engine.Connection) -> bool:
    inspector = sa.inspect(connection)
    return inspector.has_table("events") and inspector.has_table(console_summary_state.name)


def _state(connection: sa.engine.Connection) -> tuple[int, float | None] | None:
    row = connection.execute(
        sa.select(console_summary_state.c.last_event_id, console_summary_state.c.gap_seen_at).where(
            console_summary_state.c.id == 1
        )
    ).first()
    return None if row is None else (int(row.last_event_id), row.gap_seen_at)


def _top_event_id(connection: sa.engine.Connection) -> int:
    return int(connection.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM events")).scalar_one())


def lock(connection: sa.engine.Connection) -> None:
    """Take the summary's write lock (the state row) for the rest of the transaction; make the row if missing."""
    updated = connection.execute(
        console_summary_state.update()
        .where(console_summary_state.c.id == 1)
        .values(last_event_id=console_summary_state.c.last_event_id)
    ).rowcount
    if not updated:
        connection.execute(console_summary_state.insert().values(id=1, last_event_id=0, gap_seen_at=None))


def catch_up(engine: sa.engine.Engine) -> None:
    """Fold the events added since the last call into the summary (nothing to do: two indexed lookups)."""
    with engine.connect() as connection:
        if not _has_summary(connection):
            return
        state = _state(connection)
        if state is not None and _top_event_id(connection) == state[0]:
            return
    with engine.begin() as connection:
        _catch_up(connection)


def rebuild(engine: sa.engine.Engine) -> None:
    """Forget the summary and fold every event again."""
    with engine.begin() as connection:
        if _has_summary(connection):
            lock(connection)
            _clear(connection)
            _catch_up(connection)


def _clear(connection: sa.engine.Connection) -> None:
    for table in SUMMARY_TABLES:
        connection.execute(table.delete())
    connection.execute(console_summary_state.update().values(last_event_id=0, gap_seen_at=None))


def _catch_up(connection: sa.engine.Connection) -> None:
    lock(connection)
    watermark, gap_seen_at = _state(connection) or (0, None)
    top = _top_event_id(connection)
    if top == watermark:
        return
    if top < watermark:  # `events` was emptied or made again behind the console's back: start over
        _clear(connection)
        watermark, gap_seen_at = 0, None
    link = {"link": DONATE_LINK}
    if watermark == 0:
        _clear(connection)
        everything = sa.text(f"{_EVENT_COLUMNS} ORDER BY sender_id, id").execution_options(stream_results=True)
        rows = connection.execute(everything, link)
        _store(connection, summarise(rows))
        _advance(connection, top, None)
        if connection.dialect.name == "postgresql":  # the planner's statistics, for tables that just got filled
            connection.execute(sa.text(f"ANALYZE {', '.join(table.name for table in SUMMARY_TABLES)}"))
        return
    new = {"w": watermark, "top": top}
    count = connection.execute(sa.text("SELECT COUNT(*) FROM events WHERE id > :w AND id <= :top"), new).scalar_one()
    contiguous = count == top - watermark
    senders = list(
        connection.execute(sa.text("SELECT DISTINCT sender_id FROM events WHERE id > :w AND id <= :top"), new).scalars()
    )
    query = sa.text(f"{_EVENT_COLUMNS} WHERE sender_id IN :senders ORDER BY sender_id, id").bindparams(
        sa.bindparam("senders", expanding=True)
    )
    for start in range(0, len(senders), SENDER_BATCH):
        batch = senders[start : start + SENDER_BATCH]
        forget(connection, batch)
        _store(connection, summarise(connection.execute(query, {**link, "senders": batch}).all()))
    now = time.time()
    if contiguous or (gap_seen_at is not None and now - gap_seen_at >= GAP_GRACE_SECONDS):
        _advance(connection, top, None)
    elif gap_seen_at is None:
        _advance(connection, watermark, now)


def _advance(connection: sa.engine.Connection, watermark: int, gap_seen_at: float | None) -> None:
    connection.execute(
        console_summary_state.update()
        .where(console_summary_state.c.id == 1)
        .values(last_event_id=watermark, gap_seen_at=gap_seen_at)
    )


def _store(connection: sa.engine.Connection, summaries: Iterable[Summary], batch: int = 2_000) -> None:
    pending: tuple[list, ...] = tuple([] for _ in SUMMARY_TABLES)
    for summary in summaries:
        conversation, *per_conversation = summary.rows()
        pending[0].append(conversation)
        for rows, more in zip(pending[1:], per_conversation, strict=True):
            rows.extend(more)
        if len(pending[0]) >= batch:
            _insert(connection, pending)
            pending = tuple([] for _ in SUMMARY_TABLES)
    _insert(connection, pending)


def _insert(connection: sa.engine.Connection, pending: tuple[list, ...]) -> None:
    for table, rows in zip(SUMMARY_TABLES, pending, strict=True):
        if rows:
            connection.execute(table.insert(), rows)


def forget(connection: sa.engine.Connection, conversation_ids: list[str]) -> None:
    """Delete the summary rows of these conversations (the caller holds the lock)."""
    for table in SUMMARY_TABLES:
        connection.execute(table.delete().where(table.c.conversation_id.in_(conversation_ids)))


def forget_erased(connection: sa.engine.Connection, conversation_id: str) -> None:
    """After a conversation's events were deleted in this transaction: drop its summary, and bring the watermark
    down to the highest id left, so that ids SQLite hands out again are seen as new."""
    if not sa.inspect(connection).has_table(console_summary_state.name):
        return
    forget(connection, [conversation_id])
    top = _top_event_id(connection)
    connection.execute(
        console_summary_state.update()
        .where(console_summary_state.c.id == 1, console_summary_state.c.last_event_id > top)
        .values(last_event_id=top)
    )
