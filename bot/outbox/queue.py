"""Adding rows to the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.storage.app_db import outbox

NEWSLETTER_WEBHOOK = "newsletter_webhook"
LEADS_WEBHOOK = "leads_webhook"
TEAM_EMAIL = "team_email"
DESTINATIONS = (NEWSLETTER_WEBHOOK, LEADS_WEBHOOK, TEAM_EMAIL)

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


def enqueue(
    connection: sa.engine.Connection,
    *,
    record_type: str,
    record_id: int,
    destination: str,
    payload: dict[str, Any],
    now: datetime,
) -> str:
    """Queue one delivery, due at once. The payload's `id` becomes the idempotency key; returns that key."""
    if destination not in DESTINATIONS:
        raise ValueError(f"unknown outbox destination {destination!r}")
    key = str(uuid.uuid4())
    connection.execute(
        outbox.insert().values(
            record_type=record_type,
            record_id=record_id,
            destination=destination,
            payload=json.dumps({**payload, "id": key}, ensure_ascii=False),
            idempotency_key=key,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return key
