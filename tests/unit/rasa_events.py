"""Rasa's `events` table for the console tests: made with Rasa 3.6's own definition and filled exactly as its
SQL tracker store (rasa.core.tracker_store.SQLTrackerStore.save) writes it, on SQLite or PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

EVENTS: sa.Table = SQLTrackerStore.SQLEvent.__table__


def ensure_events_table(engine: sa.engine.Engine) -> None:
    """Create `events` (with its index) as Rasa does, unless a migration or Rasa already made it."""
    with engine.begin() as connection:
        EVENTS.create(bind=connection, checkfirst=True)


def add_events(
    engine: sa.engine.Engine,
    sender_id: str,
    events: Iterable[tuple[str, Mapping[str, Any]]],
    start: float | None = None,
    step: float = 1.0,
) -> list[int]:
    """Store a conversation's events, each a (type name, fields) pair such as ("user", {"text": "hi", ...}).

    The n-th event is timed `start + n * step` (start: now by default) unless its fields carry a "timestamp". Each
    row is what the tracker store writes for `event.as_dict()`: the JSON with "event" and "timestamp", the
    intent's name from parse_data, and the "name" field (an action's, but also a slot's or a loop's) as
    action_name. Returns the rows' ids, in order.
    """
    start = time.time() if start is None else start
    ids = []
    with engine.begin() as connection:
        for n, (type_name, fields) in enumerate(events):
            data = {"event": type_name, "timestamp": start + n * step, **fields}
            intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
            row = {
                "sender_id": sender_id,
                "type_name": type_name,
                "timestamp": data["timestamp"],
                "intent_name": intent,
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }
            ids.append(connection.execute(EVENTS.insert(), row).inserted_primary_key[0])
    return ids


def user(text: str, intent: str | None = None, confidence: float = 0.9, **parse_data: Any) -> tuple[str, dict]:
    """A visitor's message; `intent` None leaves parse_data without an intent."""
    parsed = {"intent": {"name": intent, "confidence": confidence}, **parse_data} if intent else dict(parse_data)
    return "user", {"text": text, "parse_data": parsed}


def bot(text: str) -> tuple[str, dict]:
    return "bot", {"text": text}


def action(name: str) -> tuple[str, dict]:
    return "action", {"name": name}


def slot(name: str, value: Any) -> tuple[str, dict]:
    return "slot", {"name": name, "value": value}
