"""The event-broker consumer's fold (bot/stream/fold.py): the pure rules, then on SQLite and PostgreSQL the tables it
keeps, compared with the console's analytics over the same events stored in Rasa's `events`; redelivery, malformed
messages, a message the database refuses, and an outage."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from bot.console import analytics as console
from bot.console.summary import DONATE_LINK, summarise
from bot.storage.app_db import (
    stream_conversation_days,
    stream_conversations,
    stream_daily_counts,
    stream_intent_counts,
    stream_seen_events,
)
from bot.stream import analytics as stream
from bot.stream import fold as fold_module
from bot.stream.fold import (
    DONATION_LINK,
    FALLBACK_ACTION,
    MESSAGE,
    SAFETY,
    ConversationState,
    DayState,
    MalformedEvent,
    Observation,
    event_key,
    fold,
    fold_bodies,
    fold_bodies_isolating,
    is_outage,
    observe,
    parse_body,
    prune_seen,
)
from tests.unit.rasa_events import add_events
from tests.unit.supporters_db import migrated_database

DAY_1 = date(2027, 1, 15)
DAY_2 = DAY_1 + timedelta(days=1)
PERIOD = console.DateRange(DAY_1 - timedelta(days=7), DAY_2)


def at(day: date, hour: int, minute: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc).timestamp()


def user(text: str, intent: str | None, confidence: float = 0.9) -> dict:
    parse_data = {"intent": {"name": intent, "confidence": confidence}, "entities": []} if intent else {}
    return {"event": "user", "text": text, "parse_data": parse_data, "input_channel": "rest"}


def bot(text: str) -> dict:
    return {"event": "bot", "text": text, "data": {"buttons": None}, "metadata": {"utter_action": "utter_x"}}


def action(name: str) -> dict:
    return {"event": "action", "name": name, "policy": None, "confidence": 1.0}


LISTEN = action("action_listen")

# (conversation, day, start hour, events in order), as Rasa publishes them (plus what it also publishes and the
# fold ignores: session starts, action_listen, slots). One conversation spans two days, one is before the range's
# second week, one gets the safety answer, one has a fallback action after a message already not understood.
CONVERSATIONS = [
    (
        "c-a",
        DAY_1,
        9,
        [
            action("action_session_start"),
            {"event": "session_started"},
            LISTEN,
            user("hi", "greet"),
            bot("Hello!"),
            LISTEN,
            user("I want to give", "donate"),
            bot("Give here: https://x.test/go/donate?c=c-a"),
            bot("And again: https://x.test/go/donate?c=c-a"),
        ],
    ),
    (
        "c-b",
        DAY_1,
        10,
        [
            user("qwzx", "nlu_fallback", 0.2),
            action("action_fallback_topics"),
            bot("Sorry?"),
            user("what is IJM", "ask_about_ijm"),
            action("action_core_fallback"),  # the second message, not understood after all
            action("action_fallback_topics"),  # counted once
            {"event": "slot", "name": "topic", "value": "ijm"},
            user("=SUM(A1)", "ask_about_ijm"),
        ],
    ),
    ("c-c", DAY_2, 23, [user("I am in danger", "safety"), action("action_safety_help"), bot("Call 911")]),
    ("c-a", DAY_2, 8, [user("thanks", "thanks"), bot("You're welcome"), user("/go/donate please", None)]),
    ("c-old", DAY_1 - timedelta(days=5), 12, [user("donate", "donate"), bot("/go/donate")]),
    ("c-quiet", DAY_2, 7, [bot("Welcome to IJM. Donate at /go/donate")]),  # a link shown, no visitor message
]


def published() -> list[dict]:
    """Every event as the broker's message body: {"sender_id": ..., "event": ..., "timestamp": ..., ...}."""
    out = []
    for sender, day, hour, events in CONVERSATIONS:
        for n, event in enumerate(events):
            out.append({"sender_id": sender, **{**event, "timestamp": at(day, hour) + n * 7.25}})
    return out


def bodies(events: list[dict]) -> list[bytes]:
    return [json.dumps(event).encode() for event in events]


# --- pure ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe\x00",
        b"",
        b"[1, 2]",
        b'"text"',
        b'{"event": "user"}',
        b'{"sender_id": 5, "event": "user"}',
        b'{"sender_id": "", "event": "user"}',
        b'{"sender_id": "a"}',
        json.dumps({"sender_id": "x" * 256, "event": "user"}).encode(),
        json.dumps({"sender_id": "a\x00b", "event": "user"}).encode(),
        b'{"sender_id": "a", "event": "user", "text": "\\ud800"}',  # a lone surrogate
    ],
)
def test_parse_body_refuses_what_is_not_an_event(body):
    with pytest.raises(MalformedEvent):
        parse_body(body)


def test_observe_reads_the_four_kinds_that_count_and_ignores_the_rest():
    t = at(DAY_1, 9)
    d = (DAY_1 - date(1970, 1, 1)).days
    assert observe({"sender_id": "s", "timestamp": t, **user("hi", "greet")}) == Observation("s", d, MESSAGE, "greet")
    assert observe({"sender_id": "s", "timestamp": t, **user("?", None)}) == Observation("s", d, MESSAGE, None)
    assert observe({"sender_id": "s", "timestamp": t, **action("action_core_fallback")}).kind == FALLBACK_ACTION
    assert observe({"sender_id": "s", "timestamp": t, **action("action_safety_help")}).kind == SAFETY
    assert observe({"sender_id": "s", "timestamp": t, **bot("see /go/donate")}).kind == DONATION_LINK
    assert DONATE_LINK.strip("%") == "/go/donate"  # the console's definition, shared
    for ignored in (bot("Hello"), LISTEN, {"event": "slot", "name": "x"}, {"event": "restart"}, {"event": "新"}):
        assert observe({"sender_id": "s", "timestamp": t, **ignored}) is None
    # A counted event without a usable timestamp is malformed; an ignored one needs none.
    for timestamp in (None, "yesterday", True, float("nan"), 1e300, -5.0, 10**400):
        with pytest.raises(MalformedEvent):
            observe({"sender_id": "s", "timestamp": timestamp, **user("hi", "greet")})
    assert observe({"sender_id": "s", **LISTEN}) is None
    # An intent name is kept to what the tables hold.
    long = observe({"sender_id": "s", "timestamp": t, **user("hi", "i" * 300 + "\x00")})
    assert long.intent == "i" * 255


def test_event_key_is_the_canonical_json_of_the_whole_event():
    event = {"sender_id": "s", "event": "user", "timestamp": 1.5, "text": "hi"}
    assert event_key(event) == event_key(dict(reversed(list(event.items()))))
    assert event_key(event) != event_key({**event, "timestamp": 1.500001})
    assert event_key(event) != event_key({**event, "sender_id": "t"})
    assert event_key(event) != event_key({**event, "text": "ho"})
    assert len(event_key(event)) == 64


def test_fold_rules():
    d = 20_000
    message = Observation("c", d, MESSAGE, "greet")
    first = fold(message, None, lambda day: None)
    assert dict(first.daily) == {"conversations_started": 1, "conversations": 1, "messages": 1, "fallbacks": 0}
    assert (first.intent, first.messages, first.conversation) == ("greet", 1, ConversationState(d, d, False))
    # The same conversation again that day: not a new conversation, nor a new conversation-day.
    again = fold(message, ConversationState(d, d, False), lambda day: DayState(messages=1))
    assert dict(again.daily) == {"conversations_started": 0, "conversations": 0, "messages": 1, "fallbacks": 0}
    # The next day: a conversation of that day, not a new conversation.
    later = fold(Observation("c", d + 1, MESSAGE, "nlu_fallback"), ConversationState(d, d, False), lambda day: None)
    assert dict(later.daily) == {"conversations_started": 0, "conversations": 1, "messages": 1, "fallbacks": 1}
    assert later.conversation == ConversationState(d, d + 1, True)
    # A day that had only a donate link so far becomes a conversation-day with its first message.
    linked = fold(message, ConversationState(d, None, False), lambda day: DayState(donation_link=True))
    assert linked.daily["conversations"] == 1
    # A fallback action counts the waiting message once, on the message's day; nothing without one.
    fallback = Observation("c", d + 3, FALLBACK_ACTION)
    counted = fold(fallback, ConversationState(d, d + 1, False), lambda day: None)
    assert (counted.day, dict(counted.daily), counted.fallbacks) == (d + 1, {"fallbacks": 1}, 1)
    assert counted.conversation == ConversationState(d, d + 1, True)
    assert fold(fallback, ConversationState(d, d + 1, True), lambda day: None) is None
    assert fold(fallback, ConversationState(d, None, False), lambda day: None) is None
    assert fold(fallback, None, lambda day: None) is None
    # The donate link: a conversation shown it that day counts once.
    link = Observation("c", d, DONATION_LINK)
    assert fold(link, None, lambda day: None).daily == {"donation_links": 1}
    assert fold(link, None, lambda day: DayState(donation_link=True)).daily == {"donation_links": 0}
    assert fold(Observation("c", d, SAFETY), None, lambda day: None).daily == {"safety_answers": 1}


def _fold_in_memory(events: list[dict]) -> tuple[dict, dict]:
    """The pure fold over events with dicts for state: (conversation-days, conversation states)."""
    conversations: dict[str, ConversationState] = {}
    days: dict[tuple[str, int], DayState] = {}
    for event in events:
        observation = observe(event)
        if observation is None:
            continue
        cid = observation.conversation_id
        delta = fold(observation, conversations.get(cid), lambda day, cid=cid: days.get((cid, day)))
        if delta is None:
            continue
        old = days.get((cid, delta.day), DayState())
        days[(cid, delta.day)] = DayState(
            old.messages + delta.messages,
            old.fallbacks + delta.fallbacks,
            old.donation_link or delta.donation_link,
            old.safety or delta.safety,
        )
        if delta.conversation is not None:
            conversations[cid] = delta.conversation
    return days, conversations


def test_the_pure_fold_agrees_with_the_consoles_summary_of_the_same_events():
    events = published()
    days, _ = _fold_in_memory(events)
    rows = [
        SimpleNamespace(
            id=position,  # as an events row's id: the order Rasa stored them in
            sender_id=e["sender_id"],
            type_name=e["event"],
            timestamp=e["timestamp"],
            intent_name=((e.get("parse_data") or {}).get("intent") or {}).get("name"),
            action_name=e.get("name"),
            data=json.dumps({k: v for k, v in e.items() if k != "sender_id"}),
            link=int(e["event"] == "bot" and "/go/donate" in json.dumps(e)),
        )
        for position, e in enumerate(sorted(events, key=lambda e: e["sender_id"]))  # stable: each conversation's order
    ]
    expected = {}
    for summary in summarise(rows):
        for day, counts in summary.days.items():
            expected[(summary.conversation_id, day)] = (counts.messages, counts.fallbacks, counts.donation_link)
    assert {key: (d.messages, d.fallbacks, d.donation_link) for key, d in days.items()} == expected


# --- the database -------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_database(request.param, tmp_path) as url:
        engine = sa.create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


STREAM_TABLES = (stream_daily_counts, stream_intent_counts, stream_conversation_days, stream_conversations)


def snapshot(engine: sa.engine.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(row) for row in connection.execute(sa.select(table))) for table in STREAM_TABLES
        }


def store_in_events(engine: sa.engine.Engine, events: list[dict]) -> None:
    """The same events in Rasa's `events`, as its SQL tracker store writes them (for the console's analytics)."""
    for event in events:
        fields = {k: v for k, v in event.items() if k not in ("sender_id", "event")}
        add_events(engine, event["sender_id"], [(event["event"], fields)])


def test_the_stream_tables_agree_with_the_consoles_analytics_and_redelivery_changes_nothing(engine):
    events = published()
    result = fold_bodies(engine, bodies(events), now=1000.0)
    counted = sum(observe(e) is not None for e in events)
    assert (result.counted, result.duplicate, result.malformed) == (counted, 0, 0)
    assert result.ignored == len(events) - counted

    store_in_events(engine, events)
    assert stream.conversations_and_messages(engine, PERIOD) == console.conversations_and_messages(engine, PERIOD)
    assert stream.fallback_rate(engine, PERIOD) == console.fallback_rate(engine, PERIOD)
    assert stream.top_intents(engine, PERIOD) == console.top_intents(engine, PERIOD)
    shown = console.donation_funnel(engine, PERIOD)[1][1]
    assert stream.distinct_conversations(engine, PERIOD, donation_link=True) == shown == 3
    for day in (DAY_1, DAY_2):
        one = console.DateRange(day, day)
        assert (
            stream.distinct_conversations(engine, one, donation_link=True) == console.donation_funnel(engine, one)[1][1]
        )
    assert stream.distinct_conversations(engine, PERIOD) == 4  # c-a, c-b, c-c, c-old

    # The numbers themselves.
    d1, d2 = DAY_1.isoformat(), DAY_2.isoformat()
    daily = stream.daily_counts(engine, PERIOD)
    # (started, conversations, messages, fallbacks, donation links, safety answers)
    assert daily[d1] == (2, 2, 5, 2, 1, 0)
    assert daily[d2] == (1, 2, 3, 0, 1, 1)  # c-a started on day 1; c-quiet shown the link without writing
    assert daily[(DAY_1 - timedelta(days=5)).isoformat()] == (1, 1, 1, 0, 1, 0)

    # Every message again (a redelivery after a lost acknowledgement), in another order: nothing changes.
    before = snapshot(engine)
    again = fold_bodies(engine, list(reversed(bodies(events))), now=2000.0)
    assert (again.counted, again.duplicate) == (0, counted)
    assert snapshot(engine) == before
    # Re-serialised differently (key order, spacing): still the same events.
    respaced = [json.dumps(dict(reversed(list(e.items()))), indent=1).encode() for e in events]
    assert fold_bodies(engine, respaced).duplicate == counted
    assert snapshot(engine) == before


def test_malformed_messages_are_logged_and_skipped_without_stopping_the_batch(engine, caplog):
    good = published()[:9]  # c-a's first day
    bad = [b"not json", b"[]", b'{"event": "user"}', json.dumps({"sender_id": "s", "event": "user"}).encode()]
    mixed = [bad[0], *bodies(good[:4]), bad[1], bad[2], *bodies(good[4:]), bad[3]]
    with caplog.at_level(logging.WARNING, logger="bot.stream.fold"):
        result = fold_bodies(engine, mixed)
    assert result.malformed == 4
    assert result.counted == sum(observe(e) is not None for e in good) == 4
    assert sum("malformed message" in r.getMessage() for r in caplog.records) == 4
    assert stream.daily_counts(engine, PERIOD)[DAY_1.isoformat()] == (1, 1, 2, 0, 1, 0)


def test_a_message_the_database_refuses_is_isolated_and_the_rest_of_the_batch_counted(engine, monkeypatch, caplog):
    real_apply = fold_module.apply

    def apply(connection, delta):
        if delta.conversation_id == "c-b":
            raise sa.exc.DataError("INSERT ...", {}, ValueError("value too long"))
        real_apply(connection, delta)

    monkeypatch.setattr(fold_module, "apply", apply)
    events = published()
    c_b = [e for e in events if e["sender_id"] == "c-b" and observe(e) is not None]
    with caplog.at_level(logging.ERROR, logger="bot.stream.fold"):
        result = fold_bodies_isolating(engine, bodies(events))
    # c-b's three messages are refused; its fallback actions then find no message waiting and change nothing.
    assert len(c_b) == 6
    assert result.malformed == 3 and result.counted == sum(observe(e) is not None for e in events) - 3
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count())
                .select_from(stream_conversations)
                .where(stream_conversations.c.conversation_id == "c-b")
            ).scalar_one()
            == 0
        )
    assert any("refuses" in r.getMessage() for r in caplog.records)


def test_an_outage_is_raised_not_skipped(tmp_path):
    gone = sa.create_engine(f"sqlite:///{tmp_path}/no/such/dir/ijm.db")
    with pytest.raises(sa.exc.OperationalError) as raised:
        fold_bodies_isolating(gone, bodies(published()[:4]))
    assert is_outage(raised.value)
    assert not is_outage(sa.exc.DataError("x", {}, ValueError("too long")))


def test_seen_keys_are_kept_for_the_retention_then_pruned(engine):
    events = published()
    fold_bodies(engine, bodies(events[:5]), now=1_000.0)
    fold_bodies(engine, bodies(events[5:]), now=500_000.0)
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(stream_seen_events)).scalar_one()
    assert total == sum(observe(e) is not None for e in events)
    forgotten = prune_seen(engine, now=1_000.0 + 86_400.0, retention=86_400.0 - 1)
    assert forgotten == sum(observe(e) is not None for e in events[:5])
    assert prune_seen(engine, now=1_000.0 + 86_400.0, retention=86_400.0 - 1) == 0
