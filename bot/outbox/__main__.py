"""`python -m bot.outbox`: the outbox worker (`ijm-bot run` starts it beside the servers)."""

from __future__ import annotations

import logging
import sys

from bot.outbox.worker import READY_LINE, run_forever
from bot.settings import Settings, SettingsError
from bot.storage.database import DatabaseUnreachable, check_database, resolve_database_url
from bot.supporters.delivery_config import DeliveryConfig
from bot.supporters.records import engine_for


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"outbox worker: {error}", file=sys.stderr, flush=True)
        return 2
    logging.basicConfig(level=getattr(logging, settings.log_level, logging.INFO), format="%(levelname)s %(message)s")
    database_url = resolve_database_url(settings.database_url)
    try:
        check_database(database_url)
    except DatabaseUnreachable as error:
        print(f"outbox worker: {error}", file=sys.stderr, flush=True)
        return 1
    print(READY_LINE, flush=True)  # what the supervisor waits for (not a log line: LOG_LEVEL can't hide it)
    run_forever(engine_for(database_url), DeliveryConfig.from_settings(settings), settings.outbox_poll_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
