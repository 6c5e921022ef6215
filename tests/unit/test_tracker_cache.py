"""The tracker store hands out the conversation it last saved without reading it again, and only while the database
still holds what it held then (bot/storage/tracker_cache.py), on a real SQLite database shared by two stores as two
Rasa server instances share one: erasure, retention, the other instance's writes and a message handled but not
saved are all seen."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.storage.tracker_cache import StoredState, TrackerCache
from bot.storage.tracker_store import ResilientSQLTrackerStore

DOMAIN = Domain.from_yaml("version: '3.1'\nslots:\n  fact_card:\n    type: any\n    mappings: []\n")
START = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def turn(text: str, answer: str) -> list:
    return [UserUttered(text, {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_x"), BotUttered(answer),
            SlotSet("fact_card", answer), ActionExecuted("action_listen")]  # fmt: skip


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/ijm.db"


@pytest.fixture
def store(url) -> ResilientSQLTrackerStore:
    store = ResilientSQLTrackerStore(domain=DOMAIN, host=url)
    yield store
    store.engine.dispose()


@pytest.fixture
def other(url, store) -> ResilientSQLTrackerStore:
    """A second Rasa server instance on the same database."""
    other = ResilientSQLTrackerStore(domain=DOMAIN, host=url)
    yield other
    other.engine.dispose()


def run(coroutine):
    return asyncio.run(coroutine)


def statements_of(store: ResilientSQLTrackerStore) -> list[str]:
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2].lower()))
    return statements


def events_of(tracker: DialogueStateTracker | None) -> list[dict]:
    return (
        [] if tracker is None else [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in tracker.events]
    )


def a_conversation(store: ResilientSQLTrackerStore, sender: str, turns: int = 2) -> DialogueStateTracker:
    """A conversation as the Rasa server makes it: read (none yet), saved, then one read and save per message."""
    assert run(store.retrieve(sender)) is None
    run(store.save(DialogueStateTracker.from_events(sender, [*START, *turn("hi", "a0")])))
    tracker = None
    for number in range(1, turns):
        tracker = run(store.retrieve(sender))
        for event in turn(f"message {number}", f"a{number}"):
            tracker.update(event)
        run(store.save(tracker))
    return tracker


def test_the_conversation_saved_last_is_handed_out_again_without_reading_its_events(store, url):
    saved = a_conversation(store, "v1", turns=3)
    hits = store.cache.hits
    statements = statements_of(store)
    again = run(store.retrieve("v1"))
    assert again is saved
    assert len(statements) == 1 and "max(events.id)" in statements[0] and "data" not in statements[0]
    fresh = ResilientSQLTrackerStore(domain=DOMAIN, host=url, cache_size=0)
    assert events_of(run(fresh.retrieve("v1"))) == events_of(again)  # what a read from the database gives
    assert store.cache.hits == hits + 1


def test_an_erased_conversation_is_not_handed_out(store, other):
    a_conversation(store, "v2")
    with other.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'v2'"))
    assert run(store.retrieve("v2")) is None


def test_the_oldest_events_removed_by_retention_are_seen(store):
    a_conversation(store, "v3", turns=3)
    hits = store.cache.hits
    with store.engine.begin() as connection:
        oldest = connection.execute(sa.text("SELECT min(id) FROM events WHERE sender_id = 'v3'")).scalar()
        connection.execute(sa.text("DELETE FROM events WHERE id <= :oldest + 2"), {"oldest": oldest})
    read = run(store.retrieve("v3"))
    assert read is not None and len(read.events) == 3 + 5 + 5 + 5 - 3
    assert store.cache.hits == hits


def test_another_instances_write_is_seen(store, other):
    a_conversation(store, "v4")
    elsewhere = run(other.retrieve("v4"))
    elsewhere.update(UserUttered("written by the other instance", {"name": "greet", "confidence": 1.0}))
    run(other.save(elsewhere))
    read = run(store.retrieve("v4"))
    assert read.latest_message.text == "written by the other instance"


def test_a_message_handled_but_not_saved_is_not_handed_out(store):
    saved = a_conversation(store, "v5")
    saved.update(UserUttered("never saved", {"name": "greet", "confidence": 1.0}))  # the save failed, say
    read = run(store.retrieve("v5"))
    assert read is not saved and read.latest_message.text != "never saved"


def test_a_new_session_is_read_from_its_start(store):
    saved = a_conversation(store, "v6")
    for event in [*START, *turn("back a week later", "b")]:
        saved.update(event)
    run(store.save(saved))
    read = run(store.retrieve("v6"))
    assert read is not saved
    assert [e.as_dict()["event"] for e in read.events][:2] == ["session_started", "action"]


def test_a_new_models_domain_forgets_every_conversation(store):
    saved = a_conversation(store, "v7")
    store.domain = Domain.from_yaml("version: '3.1'\nslots:\n  fact_card:\n    type: text\n    mappings: []\n")
    assert run(store.retrieve("v7")) is not saved


def test_with_no_cache_every_read_is_from_the_database(url):
    store = ResilientSQLTrackerStore(domain=DOMAIN, host=url, cache_size=0)
    saved = a_conversation(store, "v8")
    assert run(store.retrieve("v8")) is not saved
    assert len(store.cache) == 0


class Collecting(EventBroker):
    """Rasa's event broker interface, keeping what it is given."""

    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def test_the_new_events_reach_the_event_broker_once_without_reading_the_conversation(url):
    broker = Collecting()
    store = ResilientSQLTrackerStore(domain=DOMAIN, host=url, event_broker=broker)
    a_conversation(store, "v9", turns=3)
    assert [e["text"] for e in broker.published if e["event"] == "user"] == ["hi", "message 1", "message 2"]
    assert len(broker.published) == len(START) + 3 * 5
    tracker = run(store.retrieve("v9"))
    tracker.update(SlotSet("fact_card", "c"))
    statements = statements_of(store)
    run(store.save(tracker))
    assert broker.published[-1]["event"] == "slot" and len(broker.published) == len(START) + 3 * 5 + 1
    assert not [s for s in statements if "events.data" in s]  # no read of the conversation's events


def test_the_cache_keeps_the_most_recently_used_conversations():
    cache = TrackerCache(size=2)
    trackers = {name: DialogueStateTracker.from_events(name, START) for name in "abc"}
    for name, tracker in trackers.items():
        cache.keep(name, tracker, StoredState(1, 3))
    assert len(cache) == 2
    assert cache.get("a", StoredState(1, 3)) is None
    assert cache.get("c", StoredState(1, 3)) is trackers["c"]
    assert cache.get("c", StoredState(1, 4)) is None  # the database has changed: forgotten
    assert cache.get("c", StoredState(1, 3)) is None


def test_a_conversation_erased_while_a_message_is_handled_is_not_kept_with_the_erased_events(store):
    a_conversation(store, "v10")
    a_conversation(store, "someone else")  # the new rows' ids follow theirs, as a PostgreSQL sequence never goes back
    read = run(store.retrieve("v10"))
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'v10'"))
    for event in turn("my email is a@example.org", "b"):
        read.update(event)
    run(store.save(read))
    again = run(store.retrieve("v10"))
    assert again is not read and [e.as_dict()["event"] for e in again.events] == [
        "user",
        "action",
        "bot",
        "slot",
        "action",
    ]


def test_events_moved_in_time_in_place_are_seen(store):
    """A test makes a session expire by moving the stored events into the past: Rasa measures from their times."""
    saved = a_conversation(store, "v11")
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE events SET timestamp = timestamp - 7200 WHERE sender_id = 'v11'"))
    read = run(store.retrieve("v11"))
    assert read is not saved


def test_a_write_by_another_instance_while_a_message_is_handled_is_not_hidden(store, other):
    a_conversation(store, "v12")
    read = run(store.retrieve("v12"))
    elsewhere = run(other.retrieve("v12"))
    elsewhere.update(UserUttered("written elsewhere meanwhile", {"name": "greet", "confidence": 1.0}))
    run(other.save(elsewhere))
    for event in turn("here", "b"):
        read.update(event)
    run(store.save(read))
    texts = [e.text for e in run(store.retrieve("v12")).events if isinstance(e, UserUttered)]
    assert "written elsewhere meanwhile" in texts
