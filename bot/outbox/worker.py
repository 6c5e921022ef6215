"""The outbox worker: claims due rows, delivers them, and marks them sent, retries later, or failed.

Claims are optimistic (`UPDATE … WHERE id = ? AND status = 'pending' AND attempts = ?`), so two workers never
send the same row in the normal case; a claim also pushes the row's next attempt past the delivery's time (a
lease), so a worker that dies mid-delivery leaves the row to be sent again later, under the same
Idempotency-Key, never lost.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot.outbox import queue
from bot.outbox.delivery import FAILED, RETRY, SENT, Deliverer, Outcome
from bot.storage.app_db import outbox
from bot.supporters.delivery_config import DeliveryConfig

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
BASE_DELAY_SECONDS = 5.0
READY_LINE = "Outbox worker ready."


@dataclass
class DrainCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    claimed_elsewhere: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed


def backoff_seconds(attempts: int, max_backoff: float, jitter: Callable[[], float] = random.random) -> float:
    """5 s · 2^attempts, plus up to 10 % jitter (so retries of many rows spread out), capped at max_backoff."""
    delay = BASE_DELAY_SECONDS * 2 ** min(attempts, 32)
    return min(delay * (1 + 0.1 * jitter()), max_backoff)


def _lease(config: DeliveryConfig) -> timedelta:
    """Longer than any one delivery can take (connect and read timeouts, SMTP dialogue)."""
    return timedelta(seconds=max(60.0, 6 * config.timeout_seconds))


def _claim(connection: sa.engine.Connection, row_id: int, attempts: int, now: datetime, lease: timedelta) -> bool:
    claimed = connection.execute(
        outbox.update()
        .where(outbox.c.id == row_id, outbox.c.status == queue.PENDING, outbox.c.attempts == attempts)
        .where(outbox.c.next_attempt_at <= now)
        .values(attempts=attempts + 1, next_attempt_at=now + lease)
    )
    return claimed.rowcount == 1


def _settle(
    engine: sa.engine.Engine, row_id: int, attempts: int, outcome: Outcome, now: datetime, config: DeliveryConfig
) -> None:
    if outcome.status == SENT:
        values: dict[str, object] = {"status": queue.SENT, "sent_at": now, "last_error": None}
    elif outcome.status == FAILED:
        values = {"status": queue.FAILED, "last_error": outcome.error}
    else:
        delay = backoff_seconds(attempts, config.max_backoff_seconds)
        values = {"next_attempt_at": now + timedelta(seconds=delay), "last_error": outcome.error}
    with engine.begin() as connection:
        connection.execute(outbox.update().where(outbox.c.id == row_id, outbox.c.attempts == attempts).values(**values))


def drain_once(
    engine: sa.engine.Engine,
    config: DeliveryConfig,
    now: datetime,
    *,
    deliverer: Deliverer | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DrainCounts:
    """Deliver every row due at `now` (up to BATCH_SIZE); returns what happened to them."""
    counts = DrainCounts()
    own_deliverer = deliverer is None
    deliverer = deliverer or Deliverer(config)
    due = (
        sa.select(outbox.c.id, outbox.c.attempts)
        .where(outbox.c.status == queue.PENDING, outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(BATCH_SIZE)
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(due).all()
        for row_id, attempts in rows:
            if should_stop():
                break
            with engine.begin() as connection:
                if not _claim(connection, row_id, attempts, now, _lease(config)):
                    counts.claimed_elsewhere += 1
                    continue
                row = connection.execute(sa.select(outbox).where(outbox.c.id == row_id)).one()
            try:
                outcome = deliverer.deliver(row.destination, row.payload, row.idempotency_key)
            except Exception as error:  # a bad row must not stop the worker (and with it the whole assistant)
                logger.exception("Unexpected error delivering outbox row %s", row_id)
                outcome = Outcome(RETRY, f"unexpected error: {type(error).__name__}")
            _settle(engine, row_id, attempts + 1, outcome, now, config)
            _log(row, attempts + 1, outcome)
            counts.sent += outcome.status == SENT
            counts.retried += outcome.status == RETRY
            counts.failed += outcome.status == FAILED
    finally:
        if own_deliverer:
            deliverer.close()
    return counts


def _log(row: sa.engine.Row, attempt: int, outcome: Outcome) -> None:
    """Ids only: the records' personal data stays out of logs."""
    what = f"outbox row {row.id} ({row.record_type} {row.record_id} → {row.destination}, attempt {attempt})"
    if outcome.status == SENT:
        logger.info("Delivered %s", what)
    elif outcome.status == RETRY:
        logger.warning("Not delivered yet, will retry: %s", what)
    else:
        logger.error("Refused for good, needs staff (ijm-bot outbox): %s", what)


def run_forever(
    engine: sa.engine.Engine,
    config: DeliveryConfig,
    poll_seconds: float,
    stop: threading.Event | None = None,
) -> None:
    """Drain every `poll_seconds` until SIGTERM or SIGINT (or `stop` is set); the current delivery finishes first."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    deliverer = Deliverer(config)
    logger.info("Outbox worker polling every %g s", poll_seconds)
    try:
        while not stop.is_set():
            counts = DrainCounts()
            try:
                counts = drain_once(
                    engine, config, datetime.now(timezone.utc), deliverer=deliverer, should_stop=stop.is_set
                )
            except sa.exc.SQLAlchemyError as error:  # the database may come back; the records wait in it
                logger.error("Outbox worker cannot read the database: %s", type(error).__name__)
            if counts.attempted + counts.claimed_elsewhere < BATCH_SIZE:
                stop.wait(poll_seconds)
    finally:
        deliverer.close()
        logger.info("Outbox worker stopped")
