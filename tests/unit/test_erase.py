"""Erasing a conversation: `ijm-bot forget`, and what erase_conversation removes (and keeps), on SQLite and on
PostgreSQL (a throw-away schema; skipped when no server answers on 127.0.0.1:5432)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.console.erase import erase_conversation
from bot.console.reviews import add_tag, save_review
from bot.storage.app_db import (
    audit_log,
    conversation_reviews,
    conversation_tags,
    enquiries,
    feedback,
    intent_corrections,
    link_clicks,
    newsletter_records,
    outbox,
    stream_conversation_days,
    stream_conversations,
)
from bot.supporters.delivery_config import DeliveryConfig
from bot.supporters.records import Origin, engine_for, record_enquiry, subscribe
from bot.web import app as web_app
from tests.unit.rasa_events import add_events, bot, ensure_events_table, user
from tests.unit.supporters_db import empty_database

WEBHOOKS = DeliveryConfig("http://127.0.0.1:9/newsletter", "http://127.0.0.1:9/leads", None)


def store_conversation(engine, conversation_id: str, email: str) -> None:
    """A conversation as the assistant leaves it: events, a sign-up, an enquiry (both queued), a click, feedback."""
    ensure_events_table(engine)
    add_events(engine, conversation_id, [user(f"hi from {email}"), bot(f"hi from {email}")], start=1, step=0)
    origin = Origin(conversation_id, "rest")
    subscribe(engine, email=email, first_name="Kim", consent_text="I agree", origin=origin, delivery=WEBHOOKS)
    record_enquiry(
        engine, kind="message", team="general", team_email=None, name="Kim", email=email,
        details={"message": "hello"}, origin=origin, delivery=WEBHOOKS,
    )  # fmt: skip
    save_review(engine, conversation_id, "reviewed", f"talked about {email}", by="amira")
    add_tag(engine, conversation_id, "newsletter")
    with engine.begin() as connection:
        now = datetime.now(timezone.utc)
        event_id = connection.execute(
            sa.text("SELECT MIN(id) FROM events WHERE sender_id = :s"), {"s": conversation_id}
        ).scalar_one()
        connection.execute(
            intent_corrections.insert().values(
                conversation_id=conversation_id,
                event_id=event_id,
                text=f"hi from {email}",
                predicted_intent="greet",
                corrected_intent="subscribe_newsletter",
                corrected_by="amira",
                created_at=now,
            )
        )
        connection.execute(link_clicks.insert().values(link="donate", conversation_id=conversation_id, clicked_at=now))
        connection.execute(
            feedback.insert().values(conversation_id=conversation_id, rating="up", message_text="x", created_at=now)
        )
        # What `ijm-bot consume` keeps about the conversation (bot/stream/).
        connection.execute(
            stream_conversations.insert().values(
                conversation_id=conversation_id, first_day=20_000, open_day=None, open_fallback=False
            )
        )
        connection.execute(
            stream_conversation_days.insert().values(
                conversation_id=conversation_id, day=20_000, messages=1, fallbacks=0, donation_link=False, safety=False
            )
        )


def count(engine, table, conversation_id: str | None = None) -> int:
    with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(table)
        if conversation_id is not None and "conversation_id" in table.c:
            query = query.where(table.c.conversation_id == conversation_id)
        return connection.execute(query).scalar_one()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path, monkeypatch):
    with empty_database(request.param, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert main(["migrate"]) == 0
        yield engine_for(url)


def test_erasing_removes_every_row_of_that_conversation_and_nothing_else(engine):
    store_conversation(engine, "erase-me", "kim@example.org")
    store_conversation(engine, "keep-me", "lee@example.org")
    counts = erase_conversation(engine, "erase-me", actor="amira")
    assert counts == {
        "events": 2, "newsletter_records": 1, "enquiries": 1, "outbox": 2, "link_clicks": 1, "feedback": 1,
        "intent_corrections": 1, "conversation_reviews": 1, "conversation_tags": 1,
    }  # fmt: skip
    tables = (newsletter_records, enquiries, link_clicks, feedback, intent_corrections, conversation_reviews)
    for table in (*tables, conversation_tags, stream_conversations, stream_conversation_days):
        assert count(engine, table, "erase-me") == 0 and count(engine, table, "keep-me") == 1
    assert count(engine, outbox) == 2  # the other conversation's two deliveries
    with engine.connect() as connection:
        senders = connection.execute(sa.text("SELECT DISTINCT sender_id FROM events")).scalars().all()
        audit = connection.execute(sa.select(audit_log).where(audit_log.c.action == "conversation.erase")).one()
    assert senders == ["keep-me"]
    assert (audit.actor, audit.target) == ("amira", "erase-me") and json.loads(audit.detail)["events"] == 2


def test_ijm_bot_forget(engine, capsys):
    store_conversation(engine, "erase-me", "kim@example.org")
    assert main(["forget", "erase-me"]) == 0
    assert "Erased conversation 'erase-me'" in capsys.readouterr().out
    assert main(["forget", "erase-me"]) == 1
    assert "Nothing was stored" in capsys.readouterr().out


def test_retention_erases_only_conversations_older_than_the_limit(engine, capsys):
    from bot.console.retention import expired_conversations

    store_conversation(engine, "old", "old@example.org")
    store_conversation(engine, "recent", "new@example.org")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE events SET timestamp = :t WHERE sender_id = 'old'"), {"t": 1_000_000})
        connection.execute(sa.text("UPDATE events SET timestamp = :t WHERE sender_id = 'recent'"), {"t": 2_000_000_000})
    now = 2_000_000_000 + 3600
    assert expired_conversations(engine, days=365, now=now) == ["old"]
    assert main(["purge"]) == 0  # RETENTION_DAYS default: 365, against the real clock
    assert "Erased 1 conversation(s)" in capsys.readouterr().out
    assert count(engine, newsletter_records, "old") == 0 and count(engine, newsletter_records, "recent") == 1
    with engine.connect() as connection:
        actors = connection.execute(sa.select(audit_log.c.actor).where(audit_log.c.target == "old")).scalars().all()
    assert "retention" in actors


def test_the_web_app_applies_retention_after_it_starts(tmp_path, engine):
    from tests.e2e.harness import running_web_app
    from tests.e2e.receivers import wait_for

    store_conversation(engine, "stale", "stale@example.org")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE events SET timestamp = 1000 WHERE sender_id = 'stale'"))
    with running_web_app(tmp_path, str(engine.url), RETENTION_DAYS="30"):
        assert wait_for(lambda: count(engine, feedback, "stale") == 0, seconds=60)


def test_retention_runs_again_every_day_and_a_failed_purge_does_not_stop_it(monkeypatch):
    """The web app's retention task (what `ijm-bot run` relies on for "daily"): first soon after start, then once a
    day, going on after a database error."""

    class Stop(Exception):
        pass

    waits, purges = [], []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 4:
            raise Stop

    def purge(db, days: int) -> int:
        purges.append((db, days))
        if len(purges) == 1:
            raise RuntimeError("the database hiccuped")
        return 2

    monkeypatch.setattr(web_app.asyncio, "sleep", sleep)
    monkeypatch.setattr(web_app, "purge", purge)
    app = SimpleNamespace(ctx=SimpleNamespace(db="the app's engine"))
    with pytest.raises(Stop):
        asyncio.run(web_app.apply_retention_daily(app, 30))
    assert waits == [web_app.RETENTION_FIRST_RUN_SECONDS] + [24 * 3600] * 3
    assert purges == [("the app's engine", 30)] * 3
