"""The tracker store saves a conversation's new events without counting the stored ones first
(bot/storage/tracker_store.py), on a real SQLite database: the same rows as Rasa's own save, one query fewer."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.storage.tracker_store import STORED_EVENTS, ResilientSQLTrackerStore

DOMAIN = Domain.from_yaml("version: '3.1'\nslots:\n  fact_card:\n    type: any\n    mappings: []\n")


def turn(text: str, answer: str) -> list:
    return [UserUttered(text, {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_x"), BotUttered(answer),
            SlotSet("fact_card", answer), ActionExecuted("action_listen")]  # fmt: skip


@pytest.fixture
def store(tmp_path) -> ResilientSQLTrackerStore:
    store = ResilientSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{tmp_path}/ijm.db")
    yield store
    store.engine.dispose()


def stored_texts(store: ResilientSQLTrackerStore, sender: str) -> list[str]:
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                  {"s": sender}).all()  # fmt: skip
    return [row.type_name for row in rows]


def count_queries(store: ResilientSQLTrackerStore) -> list[str]:
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_a_tracker_read_from_the_store_saves_only_its_new_events_without_counting(store):
    tracker = DialogueStateTracker.from_events("v1", [ActionExecuted("action_session_start"), SessionStarted(),
                                                      ActionExecuted("action_listen"), *turn("hi", "a")])  # fmt: skip
    asyncio.run(store.save(tracker))  # a tracker the store did not read: saved Rasa's way
    assert len(stored_texts(store, "v1")) == len(tracker.events)

    read = asyncio.run(store.retrieve("v1"))
    # the events since the session started (Rasa's own count would be the same): all but action_session_start
    assert getattr(read, STORED_EVENTS) == len(read.events) == len(tracker.events) - 1
    for event in turn("and again", "b"):
        read.update(event)
    statements = count_queries(store)
    asyncio.run(store.save(read))
    assert not [s for s in statements if "count(" in s.lower() and "session_start" in s.lower()]  # Rasa's count
    assert len(stored_texts(store, "v1")) == len(tracker.events) + 5  # each event once
    assert [e.as_dict()["event"] for e in asyncio.run(store.retrieve("v1")).events] == [
        e.as_dict()["event"] for e in read.events
    ]

    # saved twice, with an event between: the second save writes that event only
    read.update(SlotSet("fact_card", "c"))
    asyncio.run(store.save(read))
    assert len(stored_texts(store, "v1")) == len(tracker.events) + 6


def test_a_tracker_read_across_all_sessions_is_saved_rasas_way(store):
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              *turn("hi", "a"), ActionExecuted("action_session_start"), SessionStarted(),
              ActionExecuted("action_listen")]  # fmt: skip
    asyncio.run(store.save(DialogueStateTracker.from_events("v2", events)))
    full = asyncio.run(store.retrieve_full_tracker("v2"))
    assert getattr(full, STORED_EVENTS, None) is None  # it holds more than the last session: no shortcut
    full.update(UserUttered("next", {"name": "greet", "confidence": 1.0}))
    statements = count_queries(store)
    asyncio.run(store.save(full))
    assert [s for s in statements if "count(" in s.lower()]  # Rasa's count, whatever Rasa then makes of it


def test_an_erased_conversation_is_not_written_back_whole_by_a_message_in_flight(store):
    """Erasure between the read and the save: only the message's own events are written, not the erased ones."""
    asyncio.run(store.save(DialogueStateTracker.from_events("v3", [ActionExecuted("action_listen"), *turn("hi", "a")])))
    read = asyncio.run(store.retrieve("v3"))
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'v3'"))
    for event in turn("my email", "b"):
        read.update(event)
    asyncio.run(store.save(read))
    assert len(stored_texts(store, "v3")) == 5
