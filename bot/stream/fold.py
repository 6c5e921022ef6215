"""Folding Rasa's events, as its Pika event broker publishes them to RabbitMQ, into the stream analytics tables
(bot/storage/app_db.py: stream_daily_counts, stream_intent_counts, stream_conversation_days, stream_conversations).

A message is one event: `{"sender_id": ..., **event.as_dict()}` as JSON (rasa.core.tracker_store's
_stream_new_events), e.g. {"sender_id": "abc", "event": "user", "timestamp": 1767225600.5, "text": "hi",
"parse_data": {"intent": {"name": "greet", "confidence": 0.98}, ...}}. Only four kinds change a count, with the
console's definitions (bot/console/summary.py, whose constants are imported here so the two paths agree):

- a visitor message (`user`): a message on its UTC day, its intent, not understood when classified nlu_fallback;
- a fallback action (`action` named in FALLBACK_ACTIONS): the conversation's latest visitor message was not
  understood after all (counted once, on that message's day);
- the safety answer (`action` named SAFETY_ACTION);
- an answer holding the donate link (`bot` whose stored JSON contains /go/donate).

Every other event (action_listen, slots, session starts, ...) is acknowledged and changes nothing.

Exactly-once effect. RabbitMQ delivers at least once (a message whose acknowledgement was lost comes again), and
Rasa's events carry no id. Each counted event is therefore identified by the SHA-256 of its canonical JSON (sorted
keys: sender_id, event, timestamp and the body alike) and that key is inserted into stream_seen_events in the same
transaction as the counts it changes: a redelivered event finds its key and is skipped. The consumer acknowledges
a message only after that transaction has committed. Keys are kept SEEN_RETENTION_SECONDS (redelivery happens when
a consumer reconnects, within minutes), then pruned. Two different events with the same JSON would be the same
event to us: Rasa stamps each with time.time(), so that does not happen in practice.

`fold` is the pure part (an observation and the state it touches → the row changes), `apply` writes a change,
`fold_bodies` does a whole batch of messages in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bot.console.summary import DONATE_LINK, FALLBACK_ACTIONS, FALLBACK_INTENT, SAFETY_ACTION, day_number
from bot.storage.app_db import (
    stream_conversation_days,
    stream_conversations,
    stream_daily_counts,
    stream_intent_counts,
    stream_seen_events,
)

logger = logging.getLogger(__name__)

SEEN_RETENTION_SECONDS = 7 * 86_400
DONATE_TEXT = DONATE_LINK.strip("%")  # the console's LIKE pattern, as a substring
MAX_ID_LENGTH = 255  # Rasa's events.sender_id / intent_name, and ours
# Timestamps outside these can't be a conversation's (and would not fit a day number in an INTEGER column).
EARLIEST_TIMESTAMP = 946_684_800.0  # 2000-01-01
LATEST_TIMESTAMP = 4_133_980_800.0  # 2101-01-01
DAILY_COLUMNS = ("conversations_started", "conversations", "messages", "fallbacks", "donation_links", "safety_answers")


class MalformedEvent(ValueError):
    """A message that is not one of Rasa's events as its broker publishes them; the text says why."""


# --- reading a message (pure) -----------------------------------------------------------------------------------


def parse_body(body: bytes | str) -> dict[str, Any]:
    """The event of a message body: a JSON object with a sender_id and an event type (MalformedEvent otherwise)."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise MalformedEvent(f"not a JSON object but {type(event).__name__}")
    try:  # JSON may escape lone surrogates, which no database can store (and Rasa never publishes)
        json.dumps(event, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        raise MalformedEvent("text that is not valid Unicode") from None
    sender = event.get("sender_id")
    if not isinstance(sender, str) or not sender or len(sender) > MAX_ID_LENGTH or "\x00" in sender:
        raise MalformedEvent("no usable sender_id (a string of 1 to 255 characters)")
    if not isinstance(event.get("event"), str):
        raise MalformedEvent("no event type")
    return event


def event_key(event: Mapping[str, Any]) -> str:
    """The identity of an event: SHA-256 of its canonical JSON (sender_id, type, timestamp and body)."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


MESSAGE, FALLBACK_ACTION, SAFETY, DONATION_LINK = "message", "fallback_action", "safety", "donation_link"


@dataclass(frozen=True)
class Observation:
    """What one event means for the analytics."""

    conversation_id: str
    day: int
    kind: str  # MESSAGE, FALLBACK_ACTION, SAFETY or DONATION_LINK
    intent: str | None = None  # MESSAGE only


def _day(event: Mapping[str, Any]) -> int:
    timestamp = event.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        raise MalformedEvent("no numeric timestamp")
    try:
        value = float(timestamp)
    except OverflowError:  # an integer too large for a float
        raise MalformedEvent("timestamp out of range") from None
    if not (math.isfinite(value) and EARLIEST_TIMESTAMP <= value < LATEST_TIMESTAMP):
        raise MalformedEvent(f"timestamp out of range: {value!r}")
    return day_number(value)


def _intent(event: Mapping[str, Any]) -> str | None:
    """events.intent_name as Rasa's SQL tracker store derives it: parse_data.intent.name."""
    parse_data = event.get("parse_data")
    intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
    name = intent.get("name") if isinstance(intent, dict) else None
    if not isinstance(name, str) or not name:
        return None
    return name.replace("\x00", "")[:MAX_ID_LENGTH] or None


def observe(event: Mapping[str, Any]) -> Observation | None:
    """The observation an event makes, or None when it counts nothing (MalformedEvent for a broken counted one)."""
    kind = event.get("event")
    sender = event["sender_id"]
    if kind == "user":
        return Observation(sender, _day(event), MESSAGE, _intent(event))
    if kind == "action":
        name = event.get("name")
        if name in FALLBACK_ACTIONS:
            return Observation(sender, _day(event), FALLBACK_ACTION)
        if name == SAFETY_ACTION:
            return Observation(sender, _day(event), SAFETY)
        return None
    if kind == "bot":
        # As the console reads it: the JSON the tracker store keeps (the event without sender_id) holds the link.
        stored = json.dumps({k: v for k, v in event.items() if k != "sender_id"})
        if DONATE_TEXT in stored:
            return Observation(sender, _day(event), DONATION_LINK)
    return None


# --- folding (pure) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationState:
    """A stream_conversations row: the day of the first visitor message, and of the latest one (None: none yet)
    with whether it has been counted as not understood."""

    first_day: int
    open_day: int | None = None
    open_fallback: bool = False


@dataclass(frozen=True)
class DayState:
    """A stream_conversation_days row."""

    messages: int = 0
    fallbacks: int = 0
    donation_link: bool = False
    safety: bool = False


@dataclass(frozen=True)
class Delta:
    """The row changes of one observation: increments of the day's counts, of the conversation-day (its flags are
    set, never cleared), one message for an intent, and the conversation's new state (None: unchanged)."""

    conversation_id: str
    day: int
    daily: Mapping[str, int] = field(default_factory=dict)
    intent: str | None = None
    messages: int = 0
    fallbacks: int = 0
    donation_link: bool = False
    safety: bool = False
    conversation: ConversationState | None = None


def fold(
    observation: Observation,
    conversation: ConversationState | None,
    day_state: Callable[[int], DayState | None],
) -> Delta | None:
    """The changes an observation makes, given its conversation's state and a look-up of its conversation-days.

    None when it changes nothing (a fallback action with no visitor message waiting, or one already counted)."""
    cid, day = observation.conversation_id, observation.day
    if observation.kind == MESSAGE:
        not_understood = observation.intent == FALLBACK_INTENT
        before = day_state(day)
        daily = {
            "conversations_started": int(conversation is None),
            "conversations": int(before is None or before.messages == 0),
            "messages": 1,
            "fallbacks": int(not_understood),
        }
        first_day = day if conversation is None else conversation.first_day
        return Delta(
            cid,
            day,
            daily=daily,
            intent=observation.intent,
            messages=1,
            fallbacks=int(not_understood),
            conversation=ConversationState(first_day, day, not_understood),
        )
    if observation.kind == FALLBACK_ACTION:
        # Like the console: the visitor's latest message, if not already counted, was not understood after all.
        if conversation is None or conversation.open_day is None or conversation.open_fallback:
            return None
        message_day = conversation.open_day
        return Delta(
            cid,
            message_day,
            daily={"fallbacks": 1},
            fallbacks=1,
            conversation=ConversationState(conversation.first_day, message_day, True),
        )
    if observation.kind == SAFETY:
        return Delta(cid, day, daily={"safety_answers": 1}, safety=True)
    if observation.kind == DONATION_LINK:
        before = day_state(day)
        return Delta(
            cid, day, daily={"donation_links": int(before is None or not before.donation_link)}, donation_link=True
        )
    raise ValueError(f"unknown observation kind {observation.kind!r}")


# --- the database -----------------------------------------------------------------------------------------------


def _insert(connection: sa.engine.Connection, table: sa.Table) -> Any:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"the stream analytics need PostgreSQL or SQLite, not {dialect}")


def read_conversation(connection: sa.engine.Connection, conversation_id: str) -> ConversationState | None:
    t = stream_conversations
    row = connection.execute(
        sa.select(t.c.first_day, t.c.open_day, t.c.open_fallback).where(t.c.conversation_id == conversation_id)
    ).first()
    return None if row is None else ConversationState(row.first_day, row.open_day, bool(row.open_fallback))


def read_day(connection: sa.engine.Connection, conversation_id: str, day: int) -> DayState | None:
    t = stream_conversation_days
    row = connection.execute(
        sa.select(t.c.messages, t.c.fallbacks, t.c.donation_link, t.c.safety).where(
            t.c.conversation_id == conversation_id, t.c.day == day
        )
    ).first()
    return None if row is None else DayState(row.messages, row.fallbacks, bool(row.donation_link), bool(row.safety))


def apply(connection: sa.engine.Connection, delta: Delta) -> None:
    """Write one Delta (upserts: counters add, flags only go from false to true)."""
    daily = {column: delta.daily.get(column, 0) for column in DAILY_COLUMNS}
    if any(daily.values()):
        t = stream_daily_counts
        insert = _insert(connection, t).values(day=delta.day, **daily)
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[t.c.day], set_={c: t.c[c] + insert.excluded[c] for c in DAILY_COLUMNS}
            )
        )
    if delta.intent is not None:
        t = stream_intent_counts
        insert = _insert(connection, t).values(day=delta.day, intent_name=delta.intent, messages=1)
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[t.c.day, t.c.intent_name], set_={"messages": t.c.messages + insert.excluded.messages}
            )
        )
    if delta.messages or delta.fallbacks or delta.donation_link or delta.safety:
        t = stream_conversation_days
        insert = _insert(connection, t).values(
            conversation_id=delta.conversation_id,
            day=delta.day,
            messages=delta.messages,
            fallbacks=delta.fallbacks,
            donation_link=delta.donation_link,
            safety=delta.safety,
        )
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[t.c.conversation_id, t.c.day],
                set_={
                    "messages": t.c.messages + insert.excluded.messages,
                    "fallbacks": t.c.fallbacks + insert.excluded.fallbacks,
                    "donation_link": sa.or_(t.c.donation_link, insert.excluded.donation_link),
                    "safety": sa.or_(t.c.safety, insert.excluded.safety),
                },
            )
        )
    if delta.conversation is not None:
        t = stream_conversations
        state = delta.conversation
        values = {"open_day": state.open_day, "open_fallback": state.open_fallback}
        insert = _insert(connection, t).values(
            conversation_id=delta.conversation_id, first_day=state.first_day, **values
        )
        connection.execute(insert.on_conflict_do_update(index_elements=[t.c.conversation_id], set_=values))


def fold_event(connection: sa.engine.Connection, event: Mapping[str, Any], now: float) -> str:
    """Fold one parsed event in the caller's transaction: "counted", "duplicate" (its key was seen) or "ignored"."""
    observation = observe(event)
    if observation is None:
        return "ignored"
    seen = _insert(connection, stream_seen_events).values(event_key=event_key(event), seen_at=now)
    if connection.execute(seen.on_conflict_do_nothing(index_elements=["event_key"])).rowcount == 0:
        return "duplicate"
    cid = observation.conversation_id
    delta = fold(observation, read_conversation(connection, cid), lambda day: read_day(connection, cid, day))
    if delta is not None:
        apply(connection, delta)
    return "counted"


@dataclass
class BatchResult:
    counted: int = 0
    duplicate: int = 0
    ignored: int = 0
    malformed: int = 0

    def add(self, other: BatchResult) -> None:
        for name in ("counted", "duplicate", "ignored", "malformed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def total(self) -> int:
        return self.counted + self.duplicate + self.ignored + self.malformed


def _describe(body: bytes | str) -> str:
    text = body if isinstance(body, str) else body[:200].decode("utf-8", "replace")
    return repr(text[:200])


def fold_bodies(engine: sa.engine.Engine, bodies: Iterable[bytes | str], now: float | None = None) -> BatchResult:
    """Fold a batch of message bodies in one transaction; malformed ones are logged and skipped.

    Raises the database's error when the transaction fails (nothing of the batch is then written). A message that
    the database refuses by itself (a data error, not an outage) is isolated by `fold_bodies_isolating`."""
    now = time.time() if now is None else now
    result = BatchResult()
    with engine.begin() as connection:
        for body in bodies:
            try:
                event = parse_body(body)
                outcome = fold_event(connection, event, now)
            except MalformedEvent as error:
                logger.warning("Skipping a malformed message (%s): %s", error, _describe(body))
                result.malformed += 1
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def is_outage(error: BaseException) -> bool:
    """A database error that says the database can't be used now (try again later), rather than that this data
    can't be stored (a poison message)."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError))


def fold_bodies_isolating(engine: sa.engine.Engine, bodies: list[bytes | str], now: float | None = None) -> BatchResult:
    """fold_bodies, but when the database refuses the batch for its data (not an outage), fold the messages one by
    one and count the one(s) it refuses as malformed, so that one bad message can't block the queue forever.
    An outage is raised: the caller leaves the batch unacknowledged and tries again later."""
    try:
        return fold_bodies(engine, bodies, now)
    except sa.exc.DBAPIError as error:
        if is_outage(error):
            raise
        logger.warning("The database refused a batch (%s); folding its %d message(s) one by one", error, len(bodies))
    result = BatchResult()
    for body in bodies:
        try:
            result.add(fold_bodies(engine, [body], now))
        except sa.exc.DBAPIError as error:
            if is_outage(error):
                raise
            logger.error("Skipping a message the database refuses (%s): %s", error, _describe(body))
            result.malformed += 1
    return result


def prune_seen(engine: sa.engine.Engine, now: float | None = None, retention: float = SEEN_RETENTION_SECONDS) -> int:
    """Forget the identities of events folded in more than `retention` seconds ago; how many were forgotten."""
    now = time.time() if now is None else now
    with engine.begin() as connection:
        return connection.execute(
            stream_seen_events.delete().where(stream_seen_events.c.seen_at < now - retention)
        ).rowcount


def forget_conversation(connection: sa.engine.Connection, conversation_id: str) -> None:
    """Delete what the stream tables hold about one conversation (for erasure; the daily totals, which name no
    conversation, stay)."""
    for table in (stream_conversation_days, stream_conversations):
        connection.execute(table.delete().where(table.c.conversation_id == conversation_id))
