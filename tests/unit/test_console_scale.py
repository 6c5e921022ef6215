"""The console at scale (migration 0008 and bot/console/summary.py), on SQLite and PostgreSQL (a throw-away schema;
skipped when no server answers): Rasa's `events` table made as Rasa defines it, with the console's indexes; the
summary kept in step with `events`, giving exactly what the queries over `events` gave; erasure and retention
removing it; and Rasa's own tracker store working on the migrated database."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from bench.console_data import generate
from bot.console import export, summary
from bot.console.analytics import DateRange, conversations_and_messages, donation_funnel, fallback_rate, top_intents
from bot.console.conversation_list import OUTCOMES, Filters, list_conversations
from bot.console.erase import erase_conversation
from bot.console.retention import purge
from bot.storage import app_db
from bot.storage.migrate import alembic_config, upgrade
from tests.unit.supporters_db import migrated_database

CONSOLE_INDEXES = {"ix_console_events_type_intent", "ix_console_events_type_action"}
SUMMARY_TABLES = {
    "console_conversations",
    "console_conversation_days",
    "console_conversation_intents",
    "console_unanswered",
}
DAY = date(2027, 3, 10)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    with migrated_database(request.param, tmp_path) as database_url:
        yield database_url


@pytest.fixture(params=["future", "1.x"])
def engine(request, url):
    # the app's engines are SQLAlchemy 2.0-style ("future"); the tests' and Rasa's are not
    engine = app_db.create_engine(url) if request.param == "future" else sa.create_engine(url)
    yield engine
    engine.dispose()


def rasa_events_table() -> sa.Table:
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore.SQLEvent.__table__


def add(engine, sender: str, events: list[tuple], start: float, event_id: int | None = None) -> None:
    """Events as Rasa's tracker store writes them: (type, fields) each, one second apart."""
    with engine.begin() as connection:
        for n, (type_name, fields) in enumerate(events):
            data = {"event": type_name, "timestamp": start + n, **fields}
            intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
            row = {
                "sender_id": sender, "type_name": type_name, "timestamp": start + n, "intent_name": intent,
                "action_name": data.get("name"), "data": json.dumps(data),
            }  # fmt: skip
            if event_id is not None:
                row["id"] = event_id + n
            connection.execute(app_db.events.insert(), row)


def user(text: str, intent: str = "greet", confidence: float = 0.9) -> tuple:
    return "user", {"text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def action(name: str) -> tuple:
    return "action", {"name": name}


def bot(text: str) -> tuple:
    return "bot", {"text": text}


def at(day: date, hour: int = 12) -> float:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc).timestamp()


def summary_rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(row) for row in connection.execute(sa.select(table)))
            for table in summary.SUMMARY_TABLES
        }


def listed(engine, **filters) -> list[str]:
    return [row["id"] for row in list_conversations(engine, Filters(**filters), 1)]


# --- the migration ---------------------------------------------------------------------------------------------


def test_the_migration_makes_events_as_rasa_defines_it_with_the_console_indexes_and_the_summary(url, engine):
    inspector = sa.inspect(engine)
    columns = {c["name"]: c for c in inspector.get_columns("events")}
    rasa = rasa_events_table()
    assert list(columns) == [c.name for c in rasa.columns]
    for column in rasa.columns:
        assert columns[column.name]["nullable"] == column.nullable, column.name
    assert inspector.get_pk_constraint("events")["constrained_columns"] == ["id"]
    assert {"ix_events_sender_id"} | CONSOLE_INDEXES <= {i["name"] for i in inspector.get_indexes("events")}
    assert SUMMARY_TABLES | {"console_summary_state"} <= set(inspector.get_table_names())
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id, last_event_id FROM console_summary_state")).all() == [(1, 0)]

    # Downgrade: the summary and the indexes go; an empty events table goes too, one with conversations stays.
    command.downgrade(alembic_config(url), "0007")
    assert not (SUMMARY_TABLES | {"console_summary_state", "events"}) & set(sa.inspect(engine).get_table_names())
    upgrade(url)
    add(engine, "kept", [user("hello")], start=at(DAY))
    command.downgrade(alembic_config(url), "0007")
    inspector = sa.inspect(engine)
    assert "events" in inspector.get_table_names() and not SUMMARY_TABLES & set(inspector.get_table_names())
    assert not CONSOLE_INDEXES & {i["name"] for i in inspector.get_indexes("events")}
    upgrade(url)  # on an events table that Rasa made and filled: only the indexes and the summary are added
    assert {i["name"] for i in sa.inspect(engine).get_indexes("events")} >= CONSOLE_INDEXES
    assert listed(engine) == ["kept"]


def test_app_db_describes_events_exactly_as_rasa_does():
    rasa, ours = rasa_events_table(), app_db.events
    assert [c.name for c in ours.columns] == [c.name for c in rasa.columns]
    for mine, theirs in zip(ours.columns, rasa.columns, strict=True):
        assert (type(mine.type), mine.nullable, mine.primary_key) == (
            type(theirs.type),
            theirs.nullable,
            theirs.primary_key,
        ), mine.name
        assert getattr(mine.type, "length", None) == getattr(theirs.type, "length", None)
    assert {i.name for i in rasa.indexes} <= {i.name for i in ours.indexes}


def test_rasa_tracker_store_works_on_a_migrated_database(url, engine, tmp_path):
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    parts = make_url(url)
    store = SQLTrackerStore(
        Domain.empty(),
        dialect=parts.get_backend_name(),
        host=parts.host,
        port=parts.port,
        db=parts.database,
        username=parts.username,
        password=parts.password,
        query=dict(parts.query),
    )
    try:
        tracker = DialogueStateTracker("via-rasa", [])
        tracker.update(UserUttered("I want to donate", {"name": "donate", "confidence": 0.97}))
        tracker.update(ActionExecuted("action_donate"))
        tracker.update(BotUttered("Give here: https://www.ijm.ca/go/donate?c=via-rasa"))
        asyncio.run(store.save(tracker))
        again = asyncio.run(store.retrieve("via-rasa"))
        assert [e.as_dict()["event"] for e in again.events] == ["user", "action", "bot"]
    finally:
        store.engine.dispose()
    (row,) = list_conversations(engine, Filters(intent="donate"), 1)
    assert (row["id"], row["messages"], row["first_message"]) == ("via-rasa", 1, "I want to donate")
    assert row["outcomes"] == ["donation_link"]
    assert listed(engine, action="action_donate") == ["via-rasa"]


# --- the summary ------------------------------------------------------------------------------------------------


def test_the_summary_catches_up_with_new_events_and_equals_a_rebuild(engine):
    add(engine, "a", [user("Hello"), action("utter_greet"), bot("Hi!")], start=at(DAY))
    assert listed(engine) == ["a"]
    add(engine, "b", [user("asdf", "nlu_fallback", 0.3), action("action_fallback_topics")], start=at(DAY, 13))
    add(engine, "a", [user("I'd like to VOLUNTEER", "ask_event", 0.4)], start=at(DAY + timedelta(days=1)))
    assert listed(engine) == ["a", "b"]
    (a, b) = list_conversations(engine, Filters(), 1)
    assert (a["messages"], a["first_message"], b["outcomes"]) == (2, "Hello", ["fallback"])
    assert listed(engine, q="volunteer") == ["a"] and listed(engine, below="0.35") == ["b"]
    assert listed(engine, below="0.5") == ["a", "b"] and listed(engine, fallback="1") == ["b"]
    assert listed(engine, date_from=str(DAY + timedelta(days=1))) == ["a"]
    assert listed(engine, date_to=str(DAY - timedelta(days=1))) == []
    caught_up = summary_rows(engine)
    summary.rebuild(engine)
    assert summary_rows(engine) == caught_up
    period = DateRange(DAY, DAY + timedelta(days=1))
    assert fallback_rate(engine, period) == [(str(DAY), 0.5), (str(DAY + timedelta(days=1)), 0.0)]


def test_each_fallback_action_marks_a_fallback_whatever_the_intent(engine):
    """Out of scope answered with the topics, or the dialogue losing track: fallbacks with a confident intent."""
    add(
        engine,
        "topics",
        [user("what's the weather", "out_of_scope", 0.9), action("action_fallback_topics")],
        start=at(DAY, 10),
    )
    add(engine, "core", [user("yes", "affirm", 0.95), action("action_core_fallback")], start=at(DAY, 11))
    add(engine, "fine", [user("hi", "greet", 0.99), action("utter_greet")], start=at(DAY, 12))
    assert sorted(listed(engine, fallback="1")) == ["core", "topics"]
    assert sorted(listed(engine, outcome="fallback")) == ["core", "topics"]


def test_the_unanswered_messages_are_summarised_once_each(engine):
    add(
        engine,
        "u",
        [
            user("tell me a joke", "out_of_scope", 0.9),
            action("action_fallback_topics"),  # answers the same message: listed once
            user("   ", "nlu_fallback", 0.2),  # no text: nothing to teach
            user("is the gala on friday", "ask_event", 0.97),
            action("action_core_fallback"),
            action("action_core_fallback"),
            user("thanks", "thank", 0.99),
            action("utter_thank"),
        ],
        start=at(DAY),
    )
    summary.catch_up(engine)
    with engine.connect() as connection:
        catch_up_rows = connection.execute(
            sa.select(app_db.console_unanswered.c.text).order_by(app_db.console_unanswered.c.event_id)
        ).scalars()
        assert list(catch_up_rows) == ["tell me a joke", "is the gala on friday"]


def test_migration_0010_rebuilds_a_summary_made_before_it(url, engine):
    """A database whose summary was up to date before 0010 gets its unanswered messages without any new event."""
    add(engine, "before", [user("blorp", "nlu_fallback", 0.2), action("action_fallback_topics")], start=at(DAY))
    summary.catch_up(engine)
    command.downgrade(alembic_config(url), "0009")  # the summary up to date, as 0009 left it
    upgrade(url)
    from bot.console.corrections import unanswered_messages

    assert unanswered_messages(engine, 10_000) == [("before", "blorp")]


def test_nothing_new_costs_no_write(engine):
    add(engine, "a", [user("Hello")], start=at(DAY))
    summary.catch_up(engine)
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    summary.catch_up(engine)
    assert not [s for s in statements if not s.lstrip().upper().startswith(("SELECT", "PRAGMA", "WITH"))]
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and ("events" in s or "console_" in s)]
    assert len(reads) == 2  # the watermark, and the newest event id


def test_a_hole_in_the_ids_is_waited_for_then_passed(engine, monkeypatch):
    add(engine, "a", [user("one")], start=at(DAY))
    summary.catch_up(engine)
    with engine.connect() as connection:
        top = connection.execute(sa.text("SELECT MAX(id) FROM events")).scalar_one()
    add(engine, "b", [user("three")], start=at(DAY, 14), event_id=top + 2)  # top + 1 still being written
    assert listed(engine) == ["b", "a"]
    add(engine, "c", [user("two")], start=at(DAY, 13), event_id=top + 1)  # ... now committed
    assert listed(engine) == ["b", "c", "a"]
    add(engine, "d", [user("five")], start=at(DAY, 15), event_id=top + 5)  # a hole that never fills
    assert listed(engine) == ["d", "b", "c", "a"]
    monkeypatch.setattr(summary, "GAP_GRACE_SECONDS", 0.0)
    summary.catch_up(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT last_event_id FROM console_summary_state")).scalar() == top + 5


def test_erasure_and_retention_remove_the_summary_and_new_events_are_still_seen(engine):
    add(engine, "old", [user("long ago")], start=1_000_000)
    add(engine, "keep", [user("keep me")], start=at(DAY))
    add(engine, "newest", [user("forget me"), bot("/go/donate")], start=at(DAY, 13))
    assert listed(engine) == ["newest", "keep", "old"]
    erase_conversation(engine, "newest", actor="amira")
    assert listed(engine) == ["keep", "old"]
    assert all(row[0] != "newest" for rows in summary_rows(engine).values() for row in rows)
    # SQLite hands out the erased ids again: they are new events all the same
    add(engine, "after", [user("back again")], start=at(DAY, 14))
    assert listed(engine) == ["after", "keep", "old"]
    assert purge(engine, days=30, now=at(DAY, 15)) == 1
    assert listed(engine) == ["after", "keep"]
    assert all(row[0] != "old" for rows in summary_rows(engine).values() for row in rows)


def test_events_emptied_behind_the_consoles_back_start_the_summary_over(engine):
    add(engine, "a", [user("one"), user("two")], start=at(DAY))
    assert listed(engine) == ["a"]
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events"))
    add(engine, "b", [user("three")], start=at(DAY))
    if engine.dialect.name == "sqlite":  # the ids start again from 1, below the watermark: noticed
        assert listed(engine) == ["b"]
    summary.rebuild(engine)  # what else deletes events than erasure needs a rebuild
    assert listed(engine) == ["b"]


# --- exactly what the queries over `events` gave -----------------------------------------------------------------

# The list and the charts as they were computed from `events` before the summary (the reference).
OLD_OUTCOMES = {
    "donation_link": "SELECT sender_id FROM events WHERE type_name = 'bot' AND data LIKE '%/go/donate%'",
    "safety": "SELECT sender_id FROM events WHERE type_name = 'action' AND action_name = 'action_safety_help'",
    "fallback": (
        "SELECT sender_id FROM events WHERE (type_name = 'user' AND intent_name = 'nlu_fallback') OR "
        "(type_name = 'action' AND action_name IN ('action_fallback_topics', 'action_core_fallback'))"
    ),
}
OLD_CONFIDENCE = {
    "sqlite": "CAST(json_extract(data, '$.parse_data.intent.confidence') AS REAL)",
    "postgresql": "CAST((CAST(data AS json) -> 'parse_data' -> 'intent' ->> 'confidence') AS FLOAT)",
}


def old_list(engine, where: str = "1 = 1", having: str = "", **params) -> list[tuple]:
    query = sa.text(
        f"SELECT sender_id, MIN(timestamp), SUM(CASE WHEN type_name = 'user' THEN 1 ELSE 0 END) FROM events "
        f"WHERE {where} GROUP BY sender_id {having} ORDER BY MAX(timestamp) DESC"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, params)
        return [(s, datetime.fromtimestamp(started, timezone.utc).timestamp(), int(n)) for s, started, n in rows]


def new_list(engine, filters: Filters) -> list[tuple]:
    rows, page = [], 1
    while True:
        found = list_conversations(engine, filters, page)
        rows += [(r["id"], r["started"].timestamp(), r["messages"]) for r in found]
        if len(found) < 50:
            return rows
        page += 1


def old_day(engine) -> str:
    return "CAST(FLOOR(timestamp / 86400) AS BIGINT)" if engine.dialect.name == "postgresql" else (
        "CAST(timestamp / 86400 AS INTEGER)"
    )  # fmt: skip


def test_the_list_and_the_charts_equal_the_queries_over_events_on_generated_conversations(engine):
    today = datetime(2027, 3, 20, tzinfo=timezone.utc)
    with engine.begin() as connection:
        for _day, rows, _new in generate(random.Random(3), 300, today):
            columns = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
            if rows:
                connection.execute(app_db.events.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
    summary.catch_up(engine)
    assert new_list(engine, Filters()) == old_list(engine)
    intent_in = "sender_id IN (SELECT sender_id FROM events WHERE type_name = 'user' AND intent_name = :v)"
    action_in = "sender_id IN (SELECT sender_id FROM events WHERE type_name = 'action' AND action_name = :v)"
    for intent in ("donate", "nlu_fallback", "greet"):
        assert new_list(engine, Filters(intent=intent)) == old_list(engine, intent_in, v=intent)
    for name in ("action_safety_help", "action_core_fallback"):
        assert new_list(engine, Filters(action=name)) == old_list(engine, action_in, v=name)
    for outcome, sql in OLD_OUTCOMES.items():
        assert new_list(engine, Filters(outcome=outcome)) == old_list(engine, f"sender_id IN ({sql})")
    assert new_list(engine, Filters(fallback="1")) == old_list(engine, f"sender_id IN ({OLD_OUTCOMES['fallback']})")
    below = f"sender_id IN (SELECT sender_id FROM events WHERE type_name = 'user' AND {OLD_CONFIDENCE[engine.dialect.name]} < :v)"  # noqa: E501
    for threshold in (0.3, 0.5, 0.9):
        assert new_list(engine, Filters(below=str(threshold))) == old_list(engine, below, v=threshold)
    q = "sender_id IN (SELECT sender_id FROM events WHERE type_name = 'user' AND LOWER(data) LIKE :v)"
    for word in ("volunteer", "toronto", "bonjour"):
        assert new_list(engine, Filters(q=word.upper())) == old_list(engine, q, v=f"%{word}%")
    middle = (today - timedelta(days=180)).date()
    first, last = (datetime.combine(middle, t, tzinfo=timezone.utc).timestamp() for t in (time.min, time.max))
    assert new_list(engine, Filters(date_from=str(middle))) == old_list(
        engine, having="HAVING MAX(timestamp) >= :v", v=first
    )
    assert new_list(engine, Filters(date_to=str(middle))) == old_list(
        engine, having="HAVING MIN(timestamp) <= :v", v=last
    )
    assert set(OUTCOMES) >= set(OLD_OUTCOMES)

    for days in (30, 365):
        period = DateRange((today - timedelta(days=days)).date(), today.date())
        params = {"start": period.start.timestamp(), "end": period.end.timestamp()}
        in_range = "timestamp >= :start AND timestamp < :end"
        with engine.connect() as connection:
            per_day = {
                row[0]: row[1:]
                for row in connection.execute(
                    sa.text(f"SELECT {old_day(engine)}, COUNT(DISTINCT sender_id), COUNT(*) FROM events "
                            f"WHERE type_name = 'user' AND {in_range} GROUP BY 1"), params)
            }  # fmt: skip
            intents = connection.execute(
                sa.text(f"SELECT intent_name, COUNT(*) FROM events WHERE type_name = 'user' AND intent_name IS NOT "
                        f"NULL AND {in_range} GROUP BY intent_name"), params).all()  # fmt: skip
            fallbacks = dict(connection.execute(
                sa.text(f"""SELECT {old_day(engine)}, SUM(CASE WHEN u.intent_name = 'nlu_fallback' OR EXISTS (
                    SELECT 1 FROM events a WHERE a.sender_id = u.sender_id AND a.type_name = 'action'
                      AND a.action_name IN ('action_core_fallback', 'action_fallback_topics') AND a.id > u.id
                      AND NOT EXISTS (SELECT 1 FROM events v WHERE v.sender_id = u.sender_id
                                        AND v.type_name = 'user' AND v.id > u.id AND v.id < a.id))
                    THEN 1 ELSE 0 END) FROM events u WHERE u.type_name = 'user' AND u.{in_range} GROUP BY 1"""),
                params).all())  # fmt: skip
            asked = connection.execute(
                sa.text(f"SELECT COUNT(DISTINCT sender_id) FROM events WHERE type_name = 'user' "
                        f"AND intent_name = 'donate' AND {in_range}"), params).scalar_one()  # fmt: skip
            shown = connection.execute(
                sa.text(f"SELECT COUNT(DISTINCT sender_id) FROM events WHERE type_name = 'bot' "
                        f"AND data LIKE '%/go/donate%' AND {in_range}"), params).scalar_one()  # fmt: skip
        conversations, messages = conversations_and_messages(engine, period)
        epoch = date(1970, 1, 1)
        label = {(d - epoch).days: d.isoformat() for d in period.days()}
        assert {day: n for day, n in conversations if n} == {label[d]: c for d, (c, _) in per_day.items()}
        assert {day: n for day, n in messages if n} == {label[d]: m for d, (_, m) in per_day.items()}
        expected = sorted(((i, int(n)) for i, n in intents), key=lambda r: (-r[1], r[0]))
        assert top_intents(engine, period, limit=100) == expected
        rates = {day: rate for day, rate in fallback_rate(engine, period) if rate is not None}
        assert rates == {label[d]: round(int(f) / per_day[d][1], 4) for d, f in fallbacks.items()}
        assert donation_funnel(engine, period)[:2] == [("Asked to donate", asked), ("Donate link shown", shown)]


def test_an_export_holds_the_newest_conversations_up_to_its_cap_and_says_when_more_matched(engine, monkeypatch):
    for n in range(3):
        add(engine, f"exported-{n}", [user(f"hello {n}")], start=at(DAY) + 60 * n)
    monkeypatch.setattr(export, "MAX_EXPORT_CONVERSATIONS", 2)
    assert export.conversation_ids(engine, Filters()) == (["exported-2", "exported-1"], True)
    monkeypatch.setattr(export, "MAX_EXPORT_CONVERSATIONS", 3)
    assert export.conversation_ids(engine, Filters()) == (["exported-2", "exported-1", "exported-0"], False)
