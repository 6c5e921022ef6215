"""The Sanic application object and its routes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.content.links import links
from bot.donations.content import donate_content
from bot.settings import Settings
from bot.storage.app_db import create_engine, link_clicks
from bot.storage.database import resolve_database_url

TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_app(settings: Settings) -> Sanic:
    app = Sanic("ijm_web")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings
    index_html = (TEMPLATES / "index.html").read_text(encoding="utf-8")

    @app.get("/healthz")
    async def healthz(_: Request) -> HTTPResponse:
        """Alive: the process answers. (Readiness of the whole system is /readyz, issue #7.)"""
        return response.json({"status": "ok"})

    @app.get("/")
    async def index(_: Request) -> HTTPResponse:
        return response.html(index_html)

    @app.before_server_start
    async def open_database(app: Sanic, _: object) -> None:
        app.ctx.db = create_engine(resolve_database_url(settings.database_url))

    @app.after_server_stop
    async def close_database(app: Sanic, _: object) -> None:
        app.ctx.db.dispose()

    def record_click(link: str, conversation_id: str | None) -> None:
        with app.ctx.db.begin() as connection:
            connection.execute(
                link_clicks.insert().values(
                    link=link, conversation_id=conversation_id, clicked_at=datetime.now(timezone.utc)
                )
            )

    @app.get("/go/<name:str>")
    async def go(request: Request, name: str) -> HTTPResponse:
        """Count the click on a link the assistant gave, then redirect to its address from links.yml."""
        link = links().get(name)
        if link is None:
            return response.json({"error": "unknown_link", "detail": f"there is no link named {name!r}"}, 404)
        conversation = (request.args.get("c") or "").strip()[:255] or None
        amount = link.clean_amount(request.args.get("amount"), donate_content().largest_amount)
        target = link.target(amount=amount, frequency=request.args.get("frequency"))
        await asyncio.get_running_loop().run_in_executor(None, record_click, name, conversation)
        return response.redirect(target, status=302)

    @app.middleware("response")
    async def security_headers(_: Request, resp: HTTPResponse) -> None:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")

    return app
