"""`ijm-bot consume`: read the RabbitMQ queue Rasa's Pika event broker publishes to and fold each event into the
stream analytics tables (bot/stream/fold.py).

- The queue is declared as Rasa declares it (durable, bound to the fanout exchange `rasa-exchange`), so the
  consumer may start before Rasa and nothing published meanwhile is lost.
- Messages are taken in batches (up to BATCH_SIZE; PREFETCH unacknowledged at most), folded in one database
  transaction, and acknowledged (multiple=True, up to the batch's last) only after that transaction committed. A
  crash in between leaves them unacknowledged: RabbitMQ delivers them again and the seen-event keys make the second
  fold change nothing. Malformed messages are logged and acknowledged with their batch.
- One consumer per queue: it consumes with AMQP's `exclusive` flag, so a second `ijm-bot consume` waits as a standby
  (retrying with back-off) instead of interleaving conversations (a fallback action is counted against the visitor
  message that came before it, which needs each conversation's events in order).
- A database outage leaves the batch unacknowledged; the connection is closed (RabbitMQ puts the messages back) and
  opened again after a back-off. So is a lost RabbitMQ connection: 1 s, doubling up to BACKOFF_MAX, with jitter.
- SIGTERM or Ctrl-C: the batch being folded is finished and acknowledged, the rest goes back to the queue, exit 0.

`--once` takes what the queue holds (basic.get until it is empty), folds it the same way and exits: for tests and
cron-like use. It doesn't retry: RabbitMQ or the database failing makes it exit non-zero with nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.endpoints import Unreachable, _reason, parse_amqp_url
from bot.stream.fold import BatchResult, fold_bodies_isolating, prune_seen

logger = logging.getLogger(__name__)

RABBITMQ_EXCHANGE = "rasa-exchange"  # rasa.core.brokers.pika.RABBITMQ_EXCHANGE
BATCH_SIZE = 200
PREFETCH = 400
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
HEARTBEAT_SECONDS = 10  # a RabbitMQ that vanishes without closing the connection is noticed within ~2 heartbeats
ACK_SECONDS = 10.0  # folded but not acknowledged by then: treated as a lost connection (RabbitMQ redelivers)
PRUNE_EVERY_SECONDS = 3600.0
REPORT_EVERY_SECONDS = 60.0
READY_LINE = "Stream consumer ready"


class ConsumeFailed(RuntimeError):
    """The consumer can't go on (in --once) or can't start; the message is fit for a person."""


class QueueInUse(ConsumeFailed):
    """Another consumer holds the queue (exclusive consume)."""


class _ConnectionLost(Exception):
    pass


@dataclass
class Totals:
    """What a run folded, for its messages."""

    batches: int = 0
    result: BatchResult = field(default_factory=BatchResult)

    def line(self) -> str:
        r = self.result
        return (
            f"{r.total} message(s) in {self.batches} batch(es): {r.counted} counted, {r.duplicate} already counted "
            f"(redelivered), {r.ignored} not counted (other events), {r.malformed} malformed (skipped)"
        )


@dataclass
class StreamConsumer:
    url: str
    queue: str
    engine: sa.engine.Engine
    timeout: float = 3.0
    batch_size: int = BATCH_SIZE
    prefetch: int = PREFETCH
    say: Callable[[str], None] = logger.info
    totals: Totals = field(default_factory=Totals)
    _backoff: float = BACKOFF_START
    _last_prune: float = 0.0

    # --- connection ---------------------------------------------------------------------------------------------

    def display(self) -> str:
        return parse_amqp_url(self.url).display()

    async def connect(self) -> Any:
        """An AMQP connection within `timeout` seconds (Unreachable otherwise)."""
        import aio_pika

        target = parse_amqp_url(self.url)
        try:
            return await asyncio.wait_for(
                aio_pika.connect(
                    **target.connect_arguments(),
                    timeout=self.timeout,
                    heartbeat=HEARTBEAT_SECONDS,
                    client_properties={"connection_name": "ijm-bot consume"},
                ),
                self.timeout + 0.5,
            )
        except asyncio.TimeoutError:
            raise Unreachable(f"RabbitMQ at {target.display()} did not answer within {self.timeout:g} s") from None
        except Exception as error:  # aio_pika and aiormq raise many kinds; all mean "not usable"
            raise Unreachable(f"cannot reach RabbitMQ at {target.display()}: {_reason(error)}") from None

    async def open_queue(self, connection: Any) -> tuple[Any, Any]:
        """A channel and the queue, declared and bound as Rasa's PikaEventBroker does."""
        import aio_pika

        channel = await connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        exchange = await channel.declare_exchange(RABBITMQ_EXCHANGE, type=aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(self.queue, durable=True)
        await queue.bind(exchange, "")
        return channel, queue

    # --- folding ------------------------------------------------------------------------------------------------

    async def _fold_and_ack(self, messages: list[Any]) -> None:
        """Fold a batch (one transaction), then acknowledge it; a database outage raises with nothing acknowledged."""
        started = time.monotonic()
        result = await asyncio.to_thread(fold_bodies_isolating, self.engine, [m.body for m in messages])
        try:
            # A connection cut just then may leave the ack's write waiting for ever: the loss must still be seen.
            await asyncio.wait_for(messages[-1].ack(multiple=True), ACK_SECONDS)
        except asyncio.TimeoutError:
            raise _ConnectionLost(f"no acknowledgement sent within {ACK_SECONDS:g} s") from None
        self.totals.batches += 1
        self.totals.result.add(result)
        self._backoff = BACKOFF_START
        logger.debug("Folded %d message(s) in %.0f ms: %s", len(messages), (time.monotonic() - started) * 1000, result)

    async def _prune(self, force: bool = False) -> None:
        if force or time.monotonic() - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = time.monotonic()
            forgotten = await asyncio.to_thread(prune_seen, self.engine)
            if forgotten:
                logger.info("Forgot %d seen-event key(s) past their retention", forgotten)

    # --- --once -------------------------------------------------------------------------------------------------

    async def run_once(self, stop: asyncio.Event) -> Totals:
        """Fold what the queue holds now, then return (Unreachable / ConsumeFailed / a database error otherwise)."""
        connection = await self.connect()
        try:
            _, queue = await self.open_queue(connection)
            while not stop.is_set():
                batch = []
                while len(batch) < self.batch_size:
                    message = await queue.get(no_ack=False, fail=False, timeout=self.timeout + 5)
                    if message is None:
                        break
                    batch.append(message)
                if not batch:
                    break
                await self._fold_and_ack(batch)
        except (Unreachable, sa.exc.SQLAlchemyError):
            raise
        except Exception as error:
            if _in_exclusive_use(error):
                raise QueueInUse(f"queue {self.queue!r} is being read by another consumer") from None
            raise ConsumeFailed(f"RabbitMQ at {self.display()} failed: {_reason(error)}") from None
        finally:
            await _close(connection)
        await self._prune(force=True)
        return self.totals

    # --- continuously -------------------------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> Totals:
        """Consume until `stop` is set, reconnecting with back-off. The first connection must succeed (Unreachable
        is raised otherwise: refuse rather than wait silently for a wrong URL)."""
        first = True
        reported = time.monotonic()
        while not stop.is_set():
            try:
                connection = await self.connect()
            except Unreachable as error:
                if first:
                    raise
                logger.warning("%s; trying again in %.0f s", error, self._backoff)
                await self._pause(stop)
                continue
            try:
                channel, queue = await self.open_queue(connection)
                if first and on_ready is not None:
                    on_ready()
                first = False
                await self._consume(connection, channel, queue, stop)
            except sa.exc.SQLAlchemyError as error:
                logger.error(
                    "The database failed (%s); the batch goes back to the queue, trying again in %.0f s",
                    _reason(error),
                    self._backoff,
                )
            except Exception as error:
                if not _is_connection_error(error):
                    logger.exception("Unexpected error; trying again in %.0f s", self._backoff)
                elif _in_exclusive_use(error):
                    logger.warning(
                        "Queue %r is being read by another consumer; standing by, trying again in %.0f s",
                        self.queue,
                        self._backoff,
                    )
                elif first:
                    raise ConsumeFailed(f"RabbitMQ at {self.display()} failed: {_reason(error)}") from None
                else:
                    logger.warning(
                        "Lost RabbitMQ at %s (%s); reconnecting in %.0f s",
                        self.display(),
                        _reason(error),
                        self._backoff,
                    )
                first = False
            finally:
                await _close(connection)
            if stop.is_set():
                break
            await self._pause(stop)
            if time.monotonic() - reported >= REPORT_EVERY_SECONDS:
                reported = time.monotonic()
                self.say(f"So far: {self.totals.line()}")
        return self.totals

    async def _pause(self, stop: asyncio.Event) -> None:
        delay = self._backoff * random.uniform(0.8, 1.2)
        self._backoff = min(self._backoff * 2, BACKOFF_MAX)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def _consume(self, connection: Any, channel: Any, queue: Any, stop: asyncio.Event) -> None:
        inbox: asyncio.Queue = asyncio.Queue()
        lost = asyncio.Event()

        def on_close(*_: Any) -> None:
            lost.set()

        async def on_message(message: Any) -> None:
            inbox.put_nowait(message)

        connection.close_callbacks.add(on_close)
        channel.close_callbacks.add(on_close)
        tag = await queue.consume(on_message, exclusive=True)
        logger.info("Consuming queue %r at %s", self.queue, self.display())
        reported = time.monotonic()
        try:
            while not stop.is_set():
                if lost.is_set():
                    raise _ConnectionLost("the connection closed")
                first = await _first_of(inbox.get(), stop, lost, timeout=30.0)
                if first is not None:
                    batch = [first]
                    while len(batch) < self.batch_size and not inbox.empty():
                        batch.append(inbox.get_nowait())
                    await self._fold_and_ack(batch)  # finished even when stop is set meanwhile
                await self._prune()
                if time.monotonic() - reported >= REPORT_EVERY_SECONDS and self.totals.batches:
                    reported = time.monotonic()
                    self.say(f"So far: {self.totals.line()}")
        finally:
            if not lost.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(queue.cancel(tag), 2)
            # Messages still in the inbox are unacknowledged: closing the connection gives them back to RabbitMQ.


async def _first_of(getter: Any, stop: asyncio.Event, lost: asyncio.Event, timeout: float) -> Any:
    """The inbox's next message, or None when `stop` or `lost` is set first or `timeout` passes."""
    get = asyncio.ensure_future(getter)
    stopped = asyncio.ensure_future(stop.wait())
    closed = asyncio.ensure_future(lost.wait())
    try:
        await asyncio.wait({get, stopped, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stopped, closed):
            task.cancel()
    if get.done():
        return get.result()
    get.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await get
    return None


def _is_connection_error(error: BaseException) -> bool:
    """The connection or the channel went away, or RabbitMQ refused something."""
    import aio_pika.exceptions
    import aiormq.exceptions

    kinds = (_ConnectionLost, ConnectionError, OSError, asyncio.TimeoutError, aiormq.exceptions.AMQPError)
    return isinstance(error, (*kinds, aio_pika.exceptions.AMQPException))


def _in_exclusive_use(error: BaseException) -> bool:
    try:
        import aiormq.exceptions
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, aiormq.exceptions.ChannelAccessRefused) and "exclusive" in str(error)


async def _close(connection: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(connection.close(), 5)
