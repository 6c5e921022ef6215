"""The Sanic application object and its routes."""

from __future__ import annotations

from pathlib import Path

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings

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

    @app.middleware("response")
    async def security_headers(_: Request, resp: HTTPResponse) -> None:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")

    return app
