"""Recording newsletter sign-ups, withdrawals and enquiries, each with its deliveries queued in the same
transaction (bot/outbox/): once a function here returns, the record cannot be lost nor miss its delivery."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from bot.outbox.queue import LEADS_WEBHOOK, NEWSLETTER_WEBHOOK, TEAM_EMAIL, enqueue
from bot.storage.app_db import create_engine, enquiries, newsletter_records
from bot.storage.database import resolve_database_url
from bot.supporters.delivery_config import DeliveryConfig
from bot.supporters.emails import normalise_email

SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
ENQUIRY_KINDS = ("fundraiser", "media", "message")


@dataclass(frozen=True)
class Origin:
    """Where a record came from, for staff to find the conversation."""

    conversation_id: str | None
    channel: str | None


_engines: dict[str, sa.engine.Engine] = {}
_engines_lock = threading.Lock()


def engine_for(database_url: str) -> sa.engine.Engine:
    """One engine (and connection pool) per database per process."""
    url = resolve_database_url(database_url)
    with _engines_lock:
        if url not in _engines:
            _engines[url] = create_engine(url)
        return _engines[url]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _clip(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def _origin_fields(origin: Origin) -> dict[str, str | None]:
    return {"conversation_id": _clip(origin.conversation_id, 255), "channel": _clip(origin.channel, 64)}


def _serialise_email(connection: sa.engine.Connection, email: str) -> None:
    """On PostgreSQL, make concurrent sign-ups of one address wait for each other (until the transaction ends)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:email))"), {"email": email})


def _latest_action(connection: sa.engine.Connection, email: str) -> str | None:
    query = (
        sa.select(newsletter_records.c.action)
        .where(newsletter_records.c.email == email)
        .order_by(newsletter_records.c.id.desc())
        .limit(1)
    )
    return connection.execute(query).scalar()


def is_subscribed(engine: sa.engine.Engine, email: str) -> bool:
    """Whether the latest record for the address is a sign-up."""
    with engine.connect() as connection:
        return _latest_action(connection, normalise_email(email)) == SUBSCRIBE


def _record_newsletter(
    connection: sa.engine.Connection,
    *,
    action: str,
    email: str,
    first_name: str | None,
    consent_text: str | None,
    origin: Origin,
    delivery: DeliveryConfig,
) -> None:
    now = _now()
    row = {
        "email": email,
        "first_name": _clip(first_name, 255),
        "action": action,
        "consent_text": consent_text,
        **_origin_fields(origin),
    }
    record_id = connection.execute(newsletter_records.insert().values(**row, created_at=now)).inserted_primary_key[0]
    if delivery.newsletter_webhook_url:
        payload = {"type": f"newsletter.{action}", "record_id": record_id, **row, "created_at": now.isoformat()}
        enqueue(
            connection,
            record_type="newsletter",
            record_id=record_id,
            destination=NEWSLETTER_WEBHOOK,
            payload=payload,
            now=now,
        )


def subscribe(
    engine: sa.engine.Engine,
    *,
    email: str,
    first_name: str | None,
    consent_text: str,
    origin: Origin,
    delivery: DeliveryConfig,
) -> bool:
    """Record a sign-up and queue its delivery in one transaction; False (nothing written) if already subscribed."""
    if not consent_text.strip():
        raise ValueError("a sign-up needs the consent sentence the visitor was shown")
    email = normalise_email(email)
    with engine.begin() as connection:
        _serialise_email(connection, email)
        if _latest_action(connection, email) == SUBSCRIBE:
            return False
        _record_newsletter(
            connection,
            action=SUBSCRIBE,
            email=email,
            first_name=first_name,
            consent_text=consent_text,
            origin=origin,
            delivery=delivery,
        )
    return True


def unsubscribe(engine: sa.engine.Engine, *, email: str, origin: Origin, delivery: DeliveryConfig) -> bool:
    """Record the withdrawal and queue its delivery; returns whether there was an active subscription.

    Recorded even when no sign-up is known here (it may have been made elsewhere): a withdrawal is never lost.
    """
    email = normalise_email(email)
    with engine.begin() as connection:
        _serialise_email(connection, email)
        was_subscribed = _latest_action(connection, email) == SUBSCRIBE
        _record_newsletter(
            connection,
            action=UNSUBSCRIBE,
            email=email,
            first_name=None,
            consent_text=None,
            origin=origin,
            delivery=delivery,
        )
    return was_subscribed


def record_enquiry(
    engine: sa.engine.Engine,
    *,
    kind: str,
    team: str,
    team_email: str | None,
    name: str | None,
    email: str,
    details: dict[str, str],
    origin: Origin,
    delivery: DeliveryConfig,
) -> int:
    """Store the enquiry and queue one delivery per configured destination; returns the enquiry's id.

    Destinations: the leads webhook (when configured) and an e-mail to `team_email` (when given and SMTP is
    configured). With neither, the enquiry stays in the database (`ijm-bot export enquiries`).
    """
    if kind not in ENQUIRY_KINDS:
        raise ValueError(f"unknown enquiry kind {kind!r}")
    now = _now()
    clean_details = {str(key): str(value) for key, value in details.items() if value is not None}
    row: dict[str, Any] = {
        "kind": kind,
        "team": team,
        "name": _clip(name, 255),
        "email": normalise_email(email),
        **_origin_fields(origin),
    }
    with engine.begin() as connection:
        details_json = json.dumps(clean_details, ensure_ascii=False)
        inserted = enquiries.insert().values(**row, details=details_json, created_at=now)
        record_id = connection.execute(inserted).inserted_primary_key[0]
        payload = {
            "type": f"enquiry.{kind}",
            "record_id": record_id,
            **row,
            "details": clean_details,
            "created_at": now.isoformat(),
        }
        destinations: list[tuple[str, dict[str, Any]]] = []
        if delivery.leads_webhook_url:
            destinations.append((LEADS_WEBHOOK, payload))
        if team_email and delivery.smtp is not None:
            destinations.append((TEAM_EMAIL, {**payload, "to": normalise_email(team_email)}))
        for destination, body in destinations:
            enqueue(
                connection, record_type="enquiry", record_id=record_id, destination=destination, payload=body, now=now
            )
    return record_id
