"""The Sanic application object and its routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console import summary
from bot.console.analytics_web import analytics_blueprint
from bot.console.corrections_web import corrections_blueprint
from bot.console.retention import purge
from bot.console.staff_web import staff_blueprint
from bot.console.web import console_blueprint
from bot.content.links import links
from bot.donations.content import donate_content
from bot.settings import Settings, origin_of
from bot.storage.app_db import create_engine, feedback, link_clicks
from bot.storage.database import resolve_database_url
from bot.web.limits import WebLimits
from bot.web.readiness import readiness_blueprint
from bot.web.widget import ASSETS, AssetCache, FeedbackError, parse_feedback, widget_config

logger = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"


RETENTION_FIRST_RUN_SECONDS = 5
RETENTION_INTERVAL_SECONDS = 24 * 3600

# Feedback is stored only for a conversation in Rasa's `events` table (an erased one is gone: see
# bot/console/erase.py). Rasa's socket.io channel sends the answers before it saves the turn's events, so a
# quick 👍 on the very first answer can arrive first: an unknown conversation is looked for again, every
# FEEDBACK_RECHECK_SECONDS, for FEEDBACK_WAIT_SECONDS before it is refused.
FEEDBACK_WAIT_SECONDS = 3.0
FEEDBACK_RECHECK_SECONDS = 0.25


def conversation_exists(connection: sa.engine.Connection, conversation_id: str) -> bool:
    """Whether Rasa's `events` table holds any event of `conversation_id` (no table yet: it doesn't)."""
    if not sa.inspect(connection).has_table("events"):
        return False
    found = connection.execute(
        sa.text("SELECT 1 FROM events WHERE sender_id = :s LIMIT 1"), {"s": conversation_id}
    ).first()
    return found is not None


async def apply_retention_daily(app: Sanic, days: int) -> None:
    """Erase conversations older than RETENTION_DAYS soon after start, then daily (bot/console/retention.py)."""
    await asyncio.sleep(RETENTION_FIRST_RUN_SECONDS)
    while True:
        try:
            erased = await asyncio.get_running_loop().run_in_executor(None, purge, app.ctx.db, days)
            if erased:
                logger.info("retention: erased %d conversation(s) older than %d days", erased, days)
        except Exception:  # a database hiccup must not stop the web app; tried again tomorrow
            logger.exception("retention: the daily purge failed")
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)


async def bring_console_summary_up_to_date(app: Sanic) -> None:
    """Fold the events written while the web app was down into the console's summary (bot/console/summary.py)
    at start, so the first console request after a long pause or an upgrade doesn't pay for it."""
    try:
        await asyncio.get_running_loop().run_in_executor(None, summary.catch_up, app.ctx.db)
    except Exception:  # the console's requests try again; the web app's other pages don't need it
        logger.exception("console summary: bringing it up to date at start failed")


def create_app(settings: Settings) -> Sanic:
    app = Sanic("ijm_web")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    # Nothing sent here is large (the biggest is a rated answer in POST /api/feedback).
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.ctx.settings = settings
    app.ctx.limits = WebLimits.from_settings(settings)
    index_html = (TEMPLATES / "index.html").read_text(encoding="utf-8")
    assets = AssetCache()

    @app.get("/healthz")
    async def healthz(_: Request) -> HTTPResponse:
        """Alive: the process answers. (Readiness of the whole system is /readyz, issue #7.)"""
        return response.json({"status": "ok"})

    @app.get("/favicon.ico")
    async def favicon(_: Request) -> HTTPResponse:
        """No icon: an empty answer browsers cache, rather than a 404 in every page's console."""
        return response.empty(status=204, headers={"Cache-Control": "public, max-age=86400"})

    # The demo page may load only from here and talk only to here and the Rasa server (nothing from a CDN).
    rasa_origin = origin_of(settings.rasa_url)
    socket_origin = rasa_origin.replace("http", "ws", 1)
    demo_policy = (
        f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"connect-src 'self' {rasa_origin} {socket_origin}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )

    @app.get("/")
    async def index(_: Request) -> HTTPResponse:
        """The demo page: an IJM Canada page section with the widget on it, added by its one-line embed."""
        return response.html(index_html, headers={"Content-Security-Policy": demo_policy})

    @app.before_server_start
    async def open_database(app: Sanic, _: object) -> None:
        app.ctx.db = create_engine(resolve_database_url(settings.database_url))

    @app.after_server_start
    async def start_retention(app: Sanic, _: object) -> None:
        app.add_task(apply_retention_daily(app, settings.retention_days))
        app.add_task(bring_console_summary_up_to_date(app))

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

    def serve_asset(request: Request, path: str) -> HTTPResponse:
        asset = ASSETS[path]
        try:
            body, packed = assets.get(asset)
        except FileNotFoundError:
            detail = f"{asset.path} is missing: {asset.missing_hint}"
            return response.json({"error": "not_installed", "detail": detail}, 503)
        headers = {"Cache-Control": asset.cache_control, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            body = packed
        return response.raw(body, headers=headers, content_type=asset.content_type)

    def asset_handler(path: str) -> Callable[[Request], Awaitable[HTTPResponse]]:
        async def handler(request: Request) -> HTTPResponse:
            return serve_asset(request, path)

        return handler

    # The widget, its stylesheet, and the npm packages it (and its tests) load: /widget.js, /vendor/...
    for asset_path in ASSETS:
        name = "asset_" + asset_path.strip("/").replace("/", "_").replace(".", "_").replace("-", "_")
        app.add_route(asset_handler(asset_path), asset_path, methods=["GET"], name=name)

    def allow_origin(request: Request, resp: HTTPResponse) -> HTTPResponse:
        """Pages of ALLOWED_ORIGINS on other hosts (e.g. www.ijm.ca) may read the config and send feedback."""
        origin = request.headers.get("origin")
        if origin and origin.rstrip("/") in settings.allowed_origins:
            resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Vary"] = "Origin"
        return resp

    @app.get("/widget/config.json")
    async def config_json(request: Request) -> HTTPResponse:
        resp = response.json(widget_config(settings), headers={"Cache-Control": "no-cache"})
        return allow_origin(request, resp)

    def record_feedback(conversation_id: str, rating: str, message_text: str) -> int | None:
        """Store the feedback and return its row's id; None (nothing stored) for an unknown conversation."""
        with app.ctx.db.begin() as connection:
            if not conversation_exists(connection, conversation_id):
                return None
            result = connection.execute(
                feedback.insert().values(
                    conversation_id=conversation_id,
                    rating=rating,
                    message_text=message_text,
                    created_at=datetime.now(timezone.utc),
                )
            )
            return int(result.inserted_primary_key[0])

    @app.post("/api/feedback")
    async def post_feedback(request: Request) -> HTTPResponse:
        """👍 / 👎 on an answer in the widget: {conversation_id, rating: "up"|"down", message_text}."""
        limits: WebLimits = request.app.ctx.limits
        if (wait := limits.wait_before(limits.feedback, request)) is not None:
            refused = {"error": "rate_limited", "detail": f"too much feedback from your address; try again in {wait} s"}
            return allow_origin(request, response.json(refused, 429, headers={"Retry-After": str(wait)}))
        try:
            rated = parse_feedback(request.body, request.headers.get("content-type"))
        except FeedbackError as error:
            return allow_origin(request, response.json(error.as_json(), error.status))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FEEDBACK_WAIT_SECONDS
        while True:
            row_id = await loop.run_in_executor(
                None, record_feedback, rated.conversation_id, rated.rating, rated.message_text
            )
            if row_id is not None:
                return allow_origin(request, response.json({"id": row_id}, 201))
            if loop.time() >= deadline:
                break
            await asyncio.sleep(FEEDBACK_RECHECK_SECONDS)
        unknown = {"error": "unknown_conversation", "detail": "there is no such conversation (it may have been erased)"}
        return allow_origin(request, response.json(unknown, 404))

    @app.options("/api/feedback")
    async def feedback_preflight(request: Request) -> HTTPResponse:
        resp = response.empty()
        resp.headers["Access-Control-Allow-Methods"] = "POST"
        resp.headers["Access-Control-Allow-Headers"] = "Content-Type"
        resp.headers["Access-Control-Max-Age"] = "600"
        return allow_origin(request, resp)

    app.blueprint(console_blueprint(secure_cookies=settings.public_url.startswith("https://")))
    app.blueprint(analytics_blueprint())
    app.blueprint(corrections_blueprint())
    app.blueprint(staff_blueprint())
    app.blueprint(readiness_blueprint(settings))  # GET /readyz (bot/web/readiness.py)

    @app.middleware("response")
    async def security_headers(_: Request, resp: HTTPResponse) -> None:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")

    return app
