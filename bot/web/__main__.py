"""`python -m bot.web`: run the web app on the configured host and port (`ijm-bot run` starts it)."""

from __future__ import annotations

import logging

from bot.settings import Settings
from bot.web.app import create_app


def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=getattr(logging, settings.log_level, logging.INFO))
    app = create_app(settings)
    app.run(host=settings.bind_host, port=settings.web_port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
