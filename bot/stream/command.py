"""`ijm-bot consume [--once] [--queue NAME]` (bot/cli.py adds it; the consumer is bot/stream/consumer.py)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from bot.endpoints import Unreachable, check_queue_name
from bot.settings import Settings, SettingsError
from bot.storage.database import DatabaseUnreachable, check_database, display_url, resolve_database_url
from bot.storage.migrate import upgrade as upgrade_database
from bot.stream.consumer import READY_LINE, ConsumeFailed, QueueInUse, StreamConsumer
from bot.supporters.records import engine_for

HELP = "fold the RabbitMQ stream of Rasa's events (RABBITMQ_QUEUE) into the stream analytics tables"


def add_consume_parser(commands: Any, handler: Callable[[argparse.Namespace, Settings], int]) -> None:
    consume = commands.add_parser("consume", help=HELP)
    consume.add_argument("--once", action="store_true", help="fold what the queue holds now, then exit")
    consume.add_argument("--queue", metavar="NAME", help="the queue to read (default: RABBITMQ_QUEUE)")
    consume.set_defaults(handler=handler)


def _say(message: str, stream: Any = None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def run_consume(args: argparse.Namespace, settings: Settings) -> int:
    """0 when done (--once) or stopped by SIGTERM / Ctrl-C; 2 when it can't start; 1 when --once fails midway."""

    def refuse(message: str, code: int = 2) -> int:
        _say(f"ijm-bot consume: {message}", sys.stderr)
        return code

    if not settings.rabbitmq_url:
        return refuse(
            "RABBITMQ_URL is not set: there is no stream to read. Set it (e.g. amqp://user:password@host:5672/) "
            "to the RabbitMQ that Rasa publishes its events to."
        )
    queue = args.queue or settings.rabbitmq_queue
    try:
        check_queue_name(queue)
    except SettingsError as error:
        return refuse(str(error))
    database_url = resolve_database_url(settings.database_url)
    try:
        check_database(database_url)
    except DatabaseUnreachable as error:
        return refuse(str(error))
    upgrade_database(database_url)
    logging.basicConfig(
        level=getattr(logging, settings.log_level, logging.INFO), format="%(asctime)s %(levelname)s %(message)s"
    )
    consumer = StreamConsumer(
        url=settings.rabbitmq_url,
        queue=queue,
        engine=engine_for(database_url),
        timeout=settings.rabbitmq_timeout,
        say=_say,
    )

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            if args.once:
                await consumer.run_once(stop)
            else:
                ready = f"{READY_LINE}: queue {queue!r} at {consumer.display()} into {display_url(database_url)}"
                await consumer.run_forever(stop, on_ready=lambda: _say(ready))
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        return 0

    try:
        code = asyncio.run(main())
    except Unreachable as error:
        return refuse(f"{error} (RABBITMQ_URL; nothing was read)")
    except QueueInUse as error:
        return refuse(f"{error}; nothing was read", 1)
    except ConsumeFailed as error:
        return refuse(f"{error}; the messages not yet counted stay in the queue", 1)
    except Exception as error:  # the database failed midway (--once): nothing unacknowledged is lost
        return refuse(f"stopped: {error}; the messages not yet counted stay in the queue", 1)
    _say(f"Folded {consumer.totals.line()}.")
    return code
