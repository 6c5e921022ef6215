"""Fill a PostgreSQL database with a year of made-up conversations for the console's scale benchmark.

    .venv/bin/python -m bench.console_data [URL] [--conversations 100000] [--seed 7] [--if-empty]

URL defaults to postgresql://postgres@127.0.0.1:5432/ijm_bench; the database is created when missing, migrated to
the newest revision, and Rasa's `events` table is made with Rasa's own definition (as its SQL tracker store
would). Then about 20 events per conversation (2,000,000 for 100,000 conversations) are loaded with COPY, shaped
like what Rasa 3.6 writes: a session start (action_session_start, session_started, action_listen), then turns of
a visitor message (user, with parse_data: intent and confidence, entities, text) and the assistant's actions, bot
messages (some with the /go/donate link), slots and form loops, spread over the 365 days before today (UTC),
busier in the daytime and on weekdays. Some conversations come back on a later day (a new session). The app's
own rows follow the conversations: link clicks, newsletter sign-ups, enquiries, 👍/👎, staff reviews and tags.

The same seed gives the same data (the days are counted back from today). With --if-empty nothing is done when
`events` already holds rows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ijm_bench"
DAYS = 365
FALLBACK_THRESHOLD = 0.45  # config.yml's FallbackClassifier

# intent: (share of visitor messages, what the visitor says, the assistant's action, its answer)
INTENTS: dict[str, tuple[float, list[str], str, list[str]]] = {
    "greet": (0.16, ["hi", "hello", "Hello there", "hey", "Bonjour", "good morning"], "utter_greet",
              ["Hi! I'm IJM Canada's assistant. Ask me about our work, donating or volunteering."]),
    "goodbye": (0.06, ["bye", "goodbye", "see you", "that's all, thanks bye"], "utter_goodbye",
                ["Goodbye, and thank you for caring about this work."]),
    "thank": (0.07, ["thanks", "thank you", "merci", "thanks a lot!"], "utter_you_are_welcome",
              ["You're welcome!"]),
    "ask_mission": (0.07, ["what does IJM do?", "what is your mission", "tell me about International Justice Mission"],
                    "action_answer_fact", ["IJM protects people in poverty from violence by rescuing victims, "
                                           "bringing criminals to justice and strengthening justice systems."]),
    "ask_history_overview": (0.03, ["history of IJM", "how did IJM start"], "action_answer_fact",
                             ["IJM was founded in 1997 by Gary Haugen."]),
    "ask_founder": (0.02, ["who founded IJM", "who is Gary Haugen"], "action_answer_fact",
                    ["Gary Haugen founded IJM in 1997."]),
    "ask_violence_types": (0.05, ["what kinds of violence do you fight", "do you work on forced labour?",
                                  "online sexual exploitation of children"], "action_answer_fact",
                           ["We work against forced labour, sex trafficking, online sexual exploitation of "
                            "children, police abuse and violence against women and children."]),
    "ask_impact": (0.04, ["how many people have you rescued", "what's your impact"], "action_answer_fact",
                   ["IJM has helped rescue more than 85,000 people from violence."]),
    "ask_field_offices": (0.03, ["where do you work", "do you have an office in Toronto?", "which countries"],
                          "action_answer_fact", ["IJM works from 33 program offices in 17 countries."]),
    "ask_event": (0.03, ["any events near me?", "is there an event in Vancouver", "volunteer events"],
                  "action_answer_fact", ["See our upcoming events at https://www.ijm.ca/events"]),
    "ask_more": (0.03, ["tell me more", "more please", "and?"], "action_tell_more", ["Here is more: ..."]),
    "donate": (0.09, ["I want to donate", "how can I give", "donate", "can I give monthly?", "faire un don"],
               "action_donate", ["Thank you! You can give here: https://www.ijm.ca/go/donate?c={sender}"]),
    "ask_matching": (0.02, ["does my employer match donations", "gift matching"], "action_answer_matching",
                     ["Many employers match gifts. Give here: https://www.ijm.ca/go/donate?c={sender}"]),
    "subscribe_newsletter": (0.04, ["sign me up for the newsletter", "I'd like your newsletter"],
                             "newsletter_form", ["What's your e-mail address?"]),
    "unsubscribe_newsletter": (0.01, ["unsubscribe me", "stop the emails"], "unsubscribe_form",
                               ["Which e-mail address should we remove?"]),
    "fundraise": (0.02, ["I want to fundraise", "can I run a fundraiser at school"], "fundraiser_form",
                  ["Wonderful! What's your name?"]),
    "media_enquiry": (0.01, ["I'm a journalist", "media request about trafficking"], "media_form",
                      ["What's your name?"]),
    "talk_to_person": (0.03, ["can I talk to a person", "human please", "contact someone"],
                       "action_offer_contacts", ["You can reach our team at info@ijm.ca or 1-844-443-4456."]),
    "bot_challenge": (0.02, ["are you a bot?", "am I talking to a human"], "utter_iamabot", ["I'm a bot."]),
    "ask_capabilities": (0.03, ["what can you do", "help"], "action_list_capabilities",
                         ["I can tell you about IJM, donating, the newsletter, fundraising and events."]),
    "out_of_scope": (0.05, ["what's the weather", "tell me a joke", "who won the game"], "action_out_of_scope_topics",
                     ["I can only help with questions about IJM."]),
    "disclose_danger": (0.01, ["I'm being forced to work", "someone is hurting me", "I need help, I'm not safe"],
                        "action_safety_help", ["If you are in danger, call 911 now. You can also contact ..."]),
    "affirm": (0.05, ["yes", "sure", "ok", "yes please"], "utter_anything_else", ["Anything else?"]),
    "deny": (0.04, ["no", "no thanks", "nope"], "utter_anything_else", ["Alright. Anything else?"]),
    "stop": (0.01, ["stop", "cancel"], "utter_nothing_to_stop", ["There's nothing to stop."]),
    "ask_covid": (0.005, ["covid", "did the pandemic change your work"], "action_answer_fact",
                  ["During COVID-19 our teams kept working."]),
    "ask_media_coverage": (0.01, ["IJM in the news", "press coverage"], "action_answer_fact",
                           ["IJM has been covered by ..."]),
}  # fmt: skip
FALLBACK_TEXTS = ["asdf", "hmm whats this", "blorp", "??", "qwerty zxcv", "what about the thing", "¿qué?"]
FALLBACK_ANSWER = "Sorry, I didn't get that. I can help with: our work, donating, the newsletter, events."
CORE_FALLBACK_ANSWER = "I'm not sure how to help with that. Could you say it differently?"
FORM_SLOTS = {
    "newsletter_form": ["newsletter_email", "newsletter_first_name", "newsletter_consent"],
    "unsubscribe_form": ["unsubscribe_email"],
    "fundraiser_form": ["lead_name", "lead_email", "lead_event_kind", "lead_event_date"],
    "media_form": ["media_name", "media_email", "media_outlet", "media_deadline", "media_question"],
}
ENTITY_WORDS = {"Toronto": "place", "Vancouver": "place", "monthly": "frequency"}
TAGS = ["donor care", "follow up", "safety", "media", "bug", "great answer"]
CHANNELS = ["socketio", "socketio", "socketio", "rest"]
EMPTY_BOT_DATA = {"elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None,
                  "custom": None}  # fmt: skip

EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


class Conversation:
    """The events of one conversation as Rasa would store them, plus what the app recorded about it."""

    def __init__(self, rng: random.Random, sender: str) -> None:
        self.rng = rng
        self.sender = sender
        self.intents: list[str] = []
        self.actions: list[str] = []
        self.channel = rng.choice(CHANNELS)
        self.started = 0.0

    def row(self, type_name: str, ts: float, fields: dict[str, Any], intent: str | None = None) -> tuple:
        data = {"event": type_name, "timestamp": ts, **fields}
        return (self.sender, type_name, ts, intent, fields.get("name"), json.dumps(data))

    def action(self, name: str, ts: float, policy: str = "RulePolicy", confidence: float = 1.0) -> tuple:
        self.actions.append(name)
        return self.row(
            "action",
            ts,
            {"name": name, "policy": policy, "confidence": confidence, "action_text": None, "hide_rule_turn": False,
             "metadata": {"model_id": "5f1c0c9a0b5e4d8e9a7c3b2a1d0e9f8a"}},
        )  # fmt: skip

    def bot(self, text: str, ts: float, utter: str | None = None) -> tuple:
        return self.row(
            "bot", ts, {"metadata": {"utter_action": utter} if utter else {}, "text": text, "data": EMPTY_BOT_DATA}
        )

    def session(self, start: float, turns: int) -> list[tuple]:
        rng, ts = self.rng, start
        self.started = self.started or start
        rows = [
            self.action("action_session_start", ts, policy=None, confidence=1.0),
            self.row("session_started", ts + 0.001, {"metadata": {}}),
            self.action("action_listen", ts + 0.002, policy=None),
        ]
        ts += rng.uniform(2, 40)
        form: str | None = None
        for turn in range(turns):
            intent = "greet" if turn == 0 and rng.random() < 0.45 else pick_intent(rng)
            confidence = min(0.9999, rng.betavariate(9, 1.3))
            if rng.random() < 0.07:  # not understood
                confidence = rng.uniform(0.05, FALLBACK_THRESHOLD)
            if confidence < FALLBACK_THRESHOLD:
                intent, text = "nlu_fallback", rng.choice(FALLBACK_TEXTS)
                shown_confidence = FALLBACK_THRESHOLD
            else:
                text, shown_confidence = rng.choice(INTENTS[intent][1]), confidence
            self.intents.append(intent)
            entities = [
                {"entity": kind, "value": word, "start": text.find(word), "end": text.find(word) + len(word),
                 "extractor": "DIETClassifier", "confidence_entity": round(rng.uniform(0.8, 1), 4)}
                for word, kind in ENTITY_WORDS.items()
                if word in text
            ]  # fmt: skip
            message_id = f"{rng.getrandbits(128):032x}"
            parse_data = {
                "intent": {"name": intent, "confidence": shown_confidence},
                "entities": entities,
                "text": text,
                "message_id": message_id,
                "metadata": {},
            }
            rows.append(
                self.row(
                    "user",
                    ts,
                    {"text": text, "parse_data": parse_data, "input_channel": self.channel, "message_id": message_id,
                     "metadata": {}},
                    intent=intent,
                )
            )  # fmt: skip
            ts += rng.uniform(0.3, 1.5)
            if rng.random() < 0.1:
                rows.append(self.row("user_featurization", ts, {"use_text_for_featurization": False}))
            if intent == "nlu_fallback":
                rows.append(self.action("action_fallback_topics", ts))
                rows.append(self.bot(FALLBACK_ANSWER, ts + 0.01))
            elif rng.random() < 0.03:  # the dialogue policy was unsure
                rows.append(self.action("action_core_fallback", ts, policy="RulePolicy", confidence=0.3))
                rows.append(self.bot(CORE_FALLBACK_ANSWER, ts + 0.01))
            else:
                name, answers = INTENTS[intent][2], INTENTS[intent][3]
                answer = rng.choice(answers).format(sender=self.sender)
                if name.endswith("_form"):
                    form = name
                    rows.append(self.action(name, ts))
                    rows.append(self.row("active_loop", ts + 0.01, {"name": name}))
                    rows.append(self.row("slot", ts + 0.02, {"name": "requested_slot", "value": FORM_SLOTS[name][0]}))
                    rows.append(self.bot(answer, ts + 0.03))
                elif name.startswith("utter_"):
                    rows.append(self.action(name, ts, policy="TEDPolicy", confidence=round(rng.uniform(0.6, 1), 4)))
                    rows.append(self.bot(answer, ts + 0.01, utter=name))
                else:
                    if name == "action_answer_fact":
                        rows.append(self.row("slot", ts, {"name": "fact_topic", "value": intent.removeprefix("ask_")}))
                    rows.append(self.action(name, ts + 0.005))
                    rows.append(self.bot(answer, ts + 0.01))
            ts += 0.05
            if form and rng.random() < 0.7:  # the visitor fills the form in the next turns (collapsed here)
                for slot in FORM_SLOTS[form]:
                    rows.append(self.row("slot", ts, {"name": slot, "value": f"{slot}-{rng.randrange(1000)}"}))
                    ts += 0.01
                rows.append(self.row("active_loop", ts, {"name": None}))
                rows.append(self.action(f"action_submit_{form.removesuffix('_form')}", ts + 0.01))
                form = None
            rows.append(self.action("action_listen", ts + 0.02, policy="RulePolicy"))
            ts += rng.uniform(4, 90)
        return rows


def pick_intent(rng: random.Random) -> str:
    return rng.choices(INTENT_NAMES, INTENT_WEIGHTS)[0]


INTENT_NAMES = list(INTENTS)
INTENT_WEIGHTS = [INTENTS[name][0] for name in INTENT_NAMES]


def day_weights(today: datetime) -> list[float]:
    """Relative traffic of each of the DAYS days before today: growing over the year, quieter at weekends."""
    weights = []
    for n in range(DAYS):
        day = today - timedelta(days=DAYS - n)
        weekend = day.weekday() >= 5
        weights.append((0.7 + 0.6 * n / DAYS) * (0.6 if weekend else 1.0))
    return weights


def start_second(rng: random.Random) -> float:
    """Seconds after midnight UTC, busiest in Canadian daytime (about 14:00–03:00 UTC)."""
    hour = (rng.gauss(19.5, 4.0)) % 24
    return hour * 3600 + rng.uniform(0, 3600)


def turns_of(rng: random.Random) -> int:
    return min(14, 1 + int(rng.expovariate(1 / 2.9)))


def generate(rng: random.Random, conversations: int, today: datetime) -> Iterator[tuple[int, list[tuple], list]]:
    """Per day (oldest first): (day index, that day's events in time order, that day's conversations)."""
    weights = day_weights(today)
    first_days = sorted(rng.choices(range(DAYS), weights, k=conversations))
    returning: dict[int, list[Conversation]] = defaultdict(list)
    counts = defaultdict(int)
    for day in first_days:
        counts[day] += 1
    for day in range(DAYS):
        midnight = (today - timedelta(days=DAYS - day)).timestamp()
        sessions: list[tuple[Conversation, int]] = []
        new = [Conversation(rng, f"{rng.getrandbits(128):032x}") for _ in range(counts[day])]
        sessions += [(c, turns_of(rng)) for c in new]
        sessions += [(c, max(1, turns_of(rng) // 2)) for c in returning.pop(day, [])]
        rows: list[tuple] = []
        for conversation, turns in sessions:
            rows += conversation.session(midnight + start_second(rng), turns)
            if rng.random() < 0.08:  # comes back later
                later = day + 1 + int(rng.expovariate(1 / 6))
                if later < DAYS:
                    returning[later].append(conversation)
        rows.sort(key=lambda row: row[2])
        yield day, rows, new


def copy_rows(raw: Any, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    with raw.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def app_rows(rng: random.Random, conversation: Conversation, at: float) -> dict[str, list[tuple]]:
    """What the app would have recorded for a conversation (by what happened in it)."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    when = datetime.fromtimestamp(at + rng.uniform(30, 600), timezone.utc).isoformat()
    c = conversation.sender
    if {"donate", "ask_matching"} & set(conversation.intents) and rng.random() < 0.35:
        rows["link_clicks"].append(("donate", c, when))
    if "talk_to_person" in conversation.intents and rng.random() < 0.2:
        rows["link_clicks"].append(("contact", c, when))
    email = f"visitor{rng.randrange(10**6)}@example.org"
    if "action_submit_newsletter" in conversation.actions:
        consent = "Yes, send me IJM Canada's newsletter. I can unsubscribe at any time."
        rows["newsletter_records"].append((email, "Sam", "subscribe", consent, c, conversation.channel, when))
    if "action_submit_unsubscribe" in conversation.actions:
        rows["newsletter_records"].append((email, None, "unsubscribe", None, c, conversation.channel, when))
    for action, kind, team in (("action_submit_fundraiser", "fundraiser", "community"),
                               ("action_submit_media", "media", "communications")):  # fmt: skip
        if action in conversation.actions:
            details = json.dumps({"event_kind": "school", "question": "about our work"})
            rows["enquiries"].append((kind, team, "Sam Lee", email, details, c, conversation.channel, when))
    if "talk_to_person" in conversation.intents and rng.random() < 0.3:
        details = json.dumps({"message": "Please call me back"})
        row = ("message", "supporter care", "Sam Lee", email, details, c, conversation.channel, when)
        rows["enquiries"].append(row)
    if rng.random() < 0.06:
        rating = "down" if rng.random() < 0.3 or "nlu_fallback" in conversation.intents else "up"
        rows["feedback"].append((c, rating, "the answer they rated", when))
    if rng.random() < 0.03:
        status = rng.choice(["reviewed", "reviewed", "needs_attention", "new"])
        rows["conversation_reviews"].append((c, status, "checked" if rng.random() < 0.5 else None, "amira", when))
    if rng.random() < 0.02:
        for tag in rng.sample(TAGS, rng.randint(1, 2)):
            rows["conversation_tags"].append((c, tag))
    return rows


APP_COLUMNS = {
    "link_clicks": ("link", "conversation_id", "clicked_at"),
    "newsletter_records": ("email", "first_name", "action", "consent_text", "conversation_id", "channel", "created_at"),
    "enquiries": ("kind", "team", "name", "email", "details", "conversation_id", "channel", "created_at"),
    "feedback": ("conversation_id", "rating", "message_text", "created_at"),
    "conversation_reviews": ("conversation_id", "status", "note", "updated_by", "updated_at"),
    "conversation_tags": ("conversation_id", "tag"),
}


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": parsed.database}
            ).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
                print(f"created database {parsed.database}", flush=True)
    finally:
        admin.dispose()


def prepare(url: str) -> sa.engine.Engine:
    """The database migrated, with Rasa's `events` table (made by a migration or here, as Rasa would)."""
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.storage.migrate import upgrade

    ensure_database(url)
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        SQLTrackerStore.SQLEvent.__table__.create(bind=connection, checkfirst=True)
    return engine


def event_count(engine: sa.engine.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT COUNT(*) FROM events")).scalar_one())


def fill(engine: sa.engine.Engine, conversations: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    counts: dict[str, int] = defaultdict(int)
    raw = engine.raw_connection()
    try:
        pending_events: list[tuple] = []
        pending_app: dict[str, list[tuple]] = defaultdict(list)
        for day, rows, new in generate(rng, conversations, today):
            pending_events += rows
            counts["conversations"] += len(new)
            for conversation in new:
                for table, table_rows in app_rows(rng, conversation, conversation.started).items():
                    pending_app[table] += table_rows
            if len(pending_events) >= 200_000 or day == DAYS - 1:
                copy_rows(raw, "events", EVENT_COLUMNS, pending_events)
                counts["events"] += len(pending_events)
                pending_events = []
                print(f"  day {day + 1}/{DAYS}: {counts['events']:,} events", flush=True)
        for table, table_rows in pending_app.items():
            if table == "conversation_reviews":  # one review per conversation
                table_rows = list({row[0]: row for row in table_rows}.values())
            copy_rows(raw, table, APP_COLUMNS[table], table_rows)
            counts[table] = len(table_rows)
        raw.commit()
    finally:
        raw.close()
    return dict(counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--if-empty", action="store_true", help="do nothing when events already holds rows")
    args = parser.parse_args(argv)
    if make_url(args.url).get_backend_name() != "postgresql":
        parser.error("the benchmark data goes into PostgreSQL")
    started = time.perf_counter()
    engine = prepare(args.url)
    try:
        existing = event_count(engine)
        if existing:
            if args.if_empty:
                print(f"{args.url}: events already holds {existing:,} rows; nothing to do", flush=True)
                return 0
            print(f"{args.url}: events already holds {existing:,} rows; use a fresh database", file=sys.stderr)
            return 1
        print(f"filling {args.url} with {args.conversations:,} conversations (seed {args.seed})", flush=True)
        counts = fill(engine, args.conversations, args.seed)
        loaded = time.perf_counter() - started
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
        total = time.perf_counter() - started
    finally:
        engine.dispose()
    for table, n in counts.items():
        print(f"  {table}: {n:,}")
    print(f"generated and loaded in {loaded:.1f} s; with VACUUM ANALYZE {total:.1f} s ({math.ceil(total)} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
