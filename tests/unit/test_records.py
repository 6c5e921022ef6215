"""Recording sign-ups, withdrawals and enquiries, with their deliveries queued in the same transaction.
Each test runs on SQLite and, when a server answers on 127.0.0.1:5432, on PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import bot.supporters.records as records
from bot.storage.app_db import create_engine, enquiries, newsletter_records, outbox
from bot.supporters.delivery_config import DeliveryConfig, SmtpConfig
from bot.supporters.records import (
    Origin,
    engine_for,
    is_subscribed,
    record_enquiry,
    subscribe,
    unsubscribe,
)
from tests.unit.supporters_db import migrated_database, sqlite_url

CONSENT = "Yes, IJM Canada may e-mail me its newsletter; I can unsubscribe at any time."
ORIGIN = Origin(conversation_id="conv-1", channel="socketio")
NOTHING = DeliveryConfig(newsletter_webhook_url=None, leads_webhook_url=None, smtp=None)
EVERYTHING = DeliveryConfig(
    newsletter_webhook_url="https://hooks.example.org/newsletter",
    leads_webhook_url="https://hooks.example.org/leads",
    smtp=SmtpConfig(host="smtp.example.org"),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def rows(engine, table) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(table).order_by(table.c.id)).all()


def sign_up(engine, email="Bob@Example.com", delivery=EVERYTHING, first_name="Bob") -> bool:
    return subscribe(engine, email=email, first_name=first_name, consent_text=CONSENT, origin=ORIGIN, delivery=delivery)


def test_a_sign_up_is_recorded_with_its_consent_and_queued_once(engine):
    before = datetime.now(timezone.utc)
    assert sign_up(engine) is True

    (record,) = rows(engine, newsletter_records)
    assert (record.email, record.first_name, record.action) == ("bob@example.com", "Bob", "subscribe")
    assert record.consent_text == CONSENT
    assert (record.conversation_id, record.channel) == ("conv-1", "socketio")
    assert record.created_at.tzinfo is not None and record.created_at >= before - timedelta(seconds=1)
    (queued,) = rows(engine, outbox)
    assert (queued.record_type, queued.record_id, queued.destination) == ("newsletter", record.id, "newsletter_webhook")
    assert (queued.status, queued.attempts, queued.last_error, queued.sent_at) == ("pending", 0, None, None)
    payload = json.loads(queued.payload)
    assert payload["type"] == "newsletter.subscribe"
    assert payload["id"] == queued.idempotency_key
    assert payload["email"] == "bob@example.com"
    assert payload["consent_text"] == CONSENT
    assert payload["conversation_id"] == "conv-1"
    assert datetime.fromisoformat(payload["created_at"]) == record.created_at
    assert is_subscribed(engine, "BOB@example.com")


def test_signing_up_twice_writes_nothing_the_second_time(engine):
    assert sign_up(engine) is True
    assert sign_up(engine, email="bob@EXAMPLE.com", first_name="Robert") is False
    assert len(rows(engine, newsletter_records)) == 1
    assert len(rows(engine, outbox)) == 1


def test_a_withdrawal_is_recorded_even_without_a_known_subscription(engine):
    assert unsubscribe(engine, email="ann@example.com", origin=ORIGIN, delivery=EVERYTHING) is False

    (record,) = rows(engine, newsletter_records)
    assert (record.email, record.action, record.consent_text) == ("ann@example.com", "unsubscribe", None)
    (queued,) = rows(engine, outbox)
    assert json.loads(queued.payload)["type"] == "newsletter.unsubscribe"
    assert not is_subscribed(engine, "ann@example.com")


def test_unsubscribe_then_subscribe_again(engine):
    sign_up(engine)
    assert unsubscribe(engine, email="bob@example.com", origin=ORIGIN, delivery=EVERYTHING) is True
    assert not is_subscribed(engine, "bob@example.com")
    assert sign_up(engine) is True
    assert is_subscribed(engine, "bob@example.com")
    assert [r.action for r in rows(engine, newsletter_records)] == ["subscribe", "unsubscribe", "subscribe"]
    assert [json.loads(r.payload)["type"] for r in rows(engine, outbox)] == [
        "newsletter.subscribe",
        "newsletter.unsubscribe",
        "newsletter.subscribe",
    ]
    assert len({r.idempotency_key for r in rows(engine, outbox)}) == 3


def test_with_nothing_configured_records_stay_in_the_database_only(engine):
    assert sign_up(engine, delivery=NOTHING)
    unsubscribe(engine, email="bob@example.com", origin=ORIGIN, delivery=NOTHING)
    record_enquiry(
        engine,
        kind="fundraiser",
        team="events",
        team_email="events@ijm.ca",
        name="Bob",
        email="bob@example.com",
        details={"event_kind": "bake sale"},
        origin=ORIGIN,
        delivery=NOTHING,
    )
    assert len(rows(engine, newsletter_records)) == 2
    assert len(rows(engine, enquiries)) == 1
    assert rows(engine, outbox) == []


def enquire(engine, delivery, team_email="events@ijm.ca") -> int:
    return record_enquiry(
        engine,
        kind="fundraiser",
        team="events",
        team_email=team_email,
        name="Bob Smith",
        email="Bob@Example.com",
        details={"event_kind": "bake sale", "event_date": "June 3"},
        origin=ORIGIN,
        delivery=delivery,
    )


def test_an_enquiry_is_queued_once_per_configured_destination(engine):
    enquiry_id = enquire(engine, EVERYTHING)

    (stored,) = rows(engine, enquiries)
    assert stored.id == enquiry_id
    assert (stored.kind, stored.team, stored.name, stored.email) == (
        "fundraiser",
        "events",
        "Bob Smith",
        "bob@example.com",
    )
    assert json.loads(stored.details) == {"event_kind": "bake sale", "event_date": "June 3"}
    queued = rows(engine, outbox)
    assert [(q.record_type, q.record_id, q.destination) for q in queued] == [
        ("enquiry", enquiry_id, "leads_webhook"),
        ("enquiry", enquiry_id, "team_email"),
    ]
    leads, mail = (json.loads(q.payload) for q in queued)
    assert leads["type"] == "enquiry.fundraiser"
    assert (leads["kind"], leads["team"], leads["name"]) == ("fundraiser", "events", "Bob Smith")
    assert leads["details"] == {"event_kind": "bake sale", "event_date": "June 3"}
    assert leads["id"] == queued[0].idempotency_key != queued[1].idempotency_key == mail["id"]
    assert "to" not in leads
    assert mail["to"] == "events@ijm.ca"


@pytest.mark.parametrize(
    ("delivery", "team_email", "destinations"),
    [
        (DeliveryConfig(None, "https://hooks.example.org/leads", None), "events@ijm.ca", ["leads_webhook"]),
        (DeliveryConfig(None, None, SmtpConfig(host="smtp.example.org")), "events@ijm.ca", ["team_email"]),
        (EVERYTHING, None, ["leads_webhook"]),
        (DeliveryConfig("https://hooks.example.org/newsletter", None, None), "events@ijm.ca", []),
    ],
)
def test_only_configured_destinations_get_a_row(engine, delivery, team_email, destinations):
    enquire(engine, delivery, team_email=team_email)
    assert [q.destination for q in rows(engine, outbox)] == destinations


def test_an_unknown_kind_writes_nothing(engine):
    with pytest.raises(ValueError, match="unknown enquiry kind"):
        record_enquiry(
            engine,
            kind="donation",
            team="general",
            team_email=None,
            name=None,
            email="bob@example.com",
            details={},
            origin=ORIGIN,
            delivery=EVERYTHING,
        )
    assert rows(engine, enquiries) == []


def test_the_record_and_its_delivery_are_one_transaction(engine, monkeypatch):
    def broken_queue(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(records, "enqueue", broken_queue)
    with pytest.raises(RuntimeError):
        sign_up(engine)
    with pytest.raises(RuntimeError):
        enquire(engine, EVERYTHING)
    assert rows(engine, newsletter_records) == []
    assert rows(engine, enquiries) == []


def test_overlong_visitor_text_is_clipped_not_refused(engine):
    sign_up(engine, first_name="B" * 1000)
    assert rows(engine, newsletter_records)[0].first_name == "B" * 255


def test_one_engine_per_database_per_process(tmp_path):
    url = sqlite_url(tmp_path)
    assert engine_for(url) is engine_for(url)
    assert engine_for(url) is not engine_for(sqlite_url(tmp_path / "other"))
    assert engine_for(url).pool._pre_ping
