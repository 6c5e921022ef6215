"""What staff see and do about the outbox (`ijm-bot outbox`): list rows, put one back in the queue."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.outbox.queue import FAILED, PENDING, SENT
from bot.storage.app_db import outbox


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    type: str  # the payload's type, e.g. "enquiry.fundraiser"
    record_id: int
    destination: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


def list_entries(engine: sa.engine.Engine, include_sent: bool = False) -> list[OutboxEntry]:
    query = sa.select(outbox).order_by(outbox.c.id)
    if not include_sent:
        query = query.where(outbox.c.status != SENT)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        OutboxEntry(
            id=row.id,
            type=str(json.loads(row.payload).get("type", row.record_type)),
            record_id=row.record_id,
            destination=row.destination,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            sent_at=row.sent_at,
        )
        for row in rows
    ]


def status_counts(engine: sa.engine.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)).all()
    counts = Counter({PENDING: 0, FAILED: 0, SENT: 0})
    counts.update({status: count for status, count in rows})
    return dict(counts)


class NotRetryable(ValueError):
    pass


def retry(engine: sa.engine.Engine, row_id: int, now: datetime) -> None:
    """Put a failed (or waiting) row back in the queue, due at once, its back-off restarted."""
    with engine.begin() as connection:
        status = connection.execute(sa.select(outbox.c.status).where(outbox.c.id == row_id)).scalar()
        if status is None:
            raise NotRetryable(f"there is no outbox row {row_id}")
        if status == SENT:
            raise NotRetryable(f"outbox row {row_id} was already sent")
        connection.execute(
            outbox.update().where(outbox.c.id == row_id).values(status=PENDING, attempts=0, next_attempt_at=now)
        )
