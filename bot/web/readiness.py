"""GET /readyz: is the whole assistant ready to talk to visitors? (issue #7; /healthz only says "alive").

Every check runs at once, each bounded by CHECK_TIMEOUT seconds, so the answer comes within about that
time whatever is down. The answer is 200 when every check passes, else 503, with the checks:

    {"ready": false, "checks": {"database": {"ok": true, "detail": "...", "milliseconds": 3}, ...}}

- `database`: `SELECT 1` on DATABASE_URL (conversations and the app's tables);
- `rasa`: the Rasa server is past loading its model and its REST channel answers. Without Rasa's HTTP API
  (off here; its `/status` would name the model) this is what can be known cheaply: Rasa 3.6 loads the
  model in a `before_server_start` listener and Sanic opens the port only once those listeners have
  finished, so a Rasa server that answers `GET /` ("Hello from Rasa") has tried. Its attempt can fail
  without stopping it (`rasa.core.agent.load_agent` logs "Could not load model due to ..." and serves
  without a model): `ijm-bot run` treats that line as fatal (bot/cli.py, fatal_markers) and stops
  everything, so under `ijm-bot run` an answering Rasa server has its model. Neither `GET /` nor
  `GET /webhooks/rest/` creates a conversation;
- `action_server`: the action server's `GET /health`;
- `redis` (when REDIS_URL is set): PING, as Rasa's lock store needs it;
- `rabbitmq` (when RABBITMQ_URL is set): an AMQP connection, and how many events wait in RABBITMQ_QUEUE.

The outbox worker has no port; its deliveries are watched with `ijm-bot outbox`.

Under `ijm-bot run --instances N` (bot/cluster.py) `rasa` and `action_server` are checked through nginx (the
addresses visitors and the Rasa servers use), and each instance is checked too: `rasa_1` ... `rasa_N`,
`action_server_1` ... `action_server_N` (RASA_INSTANCE_URLS, ACTION_INSTANCE_URLS, which `ijm-bot run`
gives the web app). One instance down does not make the assistant unready, since nginx sends its
conversations to the others and the supervisor restarts it: the answer stays 200 while at least one
instance of each kind answers, with `"degraded": true` and the failing instance named; 503 when none does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import sqlalchemy as sa
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.endpoints import rabbitmq_connect, redis_ping
from bot.settings import Settings

CHECK_TIMEOUT = 2.0
# Database checks run here, apart from the threads serving pages: a database that hangs cannot starve them.
_database_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")


class CheckFailed(RuntimeError):
    pass


def _select_one(engine: sa.engine.Engine) -> str:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return f"SELECT 1 answered ({engine.url.get_backend_name()})"


async def check_database(engine: sa.engine.Engine) -> str:
    return await asyncio.get_running_loop().run_in_executor(_database_threads, _select_one, engine)


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    try:
        async with session.get(url, allow_redirects=False) as answer:
            return answer.status, (await answer.text())[:200]
    except aiohttp.ClientError as error:
        raise CheckFailed(f"{url}: {type(error).__name__}: {error}") from None


async def check_rasa(session: aiohttp.ClientSession, rasa_url: str) -> str:
    status, body = await _get(session, f"{rasa_url}/")
    if status != 200 or "Hello from Rasa" not in body:
        raise CheckFailed(f"{rasa_url}/ answered {status}, not Rasa's greeting")
    channel_status, _ = await _get(session, f"{rasa_url}/webhooks/rest/")
    if channel_status != 200:
        raise CheckFailed(f"model loaded, but the REST channel answered {channel_status}")
    return f"model loaded and REST channel up ({body.strip()})"


async def check_action_server(session: aiohttp.ClientSession, action_server_url: str) -> str:
    health = f"{action_server_url.removesuffix('/webhook')}/health"
    status, _ = await _get(session, health)
    if status != 200:
        raise CheckFailed(f"{health} answered {status}")
    return f"{health} answered 200"


async def _timed(check: Callable[[], Awaitable[str]], timeout: float) -> dict[str, object]:
    started = time.monotonic()
    try:
        detail, ok = await asyncio.wait_for(check(), timeout), True
    except asyncio.TimeoutError:
        detail, ok = f"no answer within {timeout:g} s", False
    except Exception as error:  # whatever a check raises, the answer is "not ready" and why
        detail, ok = (str(error) or type(error).__name__), False
    return {"ok": ok, "detail": detail, "milliseconds": round((time.monotonic() - started) * 1000)}


async def readiness(settings: Settings, engine: sa.engine.Engine, timeout: float = CHECK_TIMEOUT) -> dict[str, object]:
    """Run every check concurrently; {"ready": bool, "checks": {name: {ok, detail, milliseconds}}}."""
    client_timeout = aiohttp.ClientTimeout(total=timeout, connect=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        checks: dict[str, Callable[[], Awaitable[str]]] = {
            "database": lambda: check_database(engine),
            "rasa": lambda: check_rasa(session, settings.rasa_url),
            "action_server": lambda: check_action_server(session, settings.action_server_url),
        }
        # A little less than the overall bound, so these report their own, clearer, timeout message.
        service_timeout = max(timeout - 0.6, 0.5)
        if settings.redis_url:
            redis_url = settings.redis_url
            checks["redis"] = lambda: redis_ping(redis_url, min(settings.redis_timeout, service_timeout))
        if settings.rabbitmq_url:
            amqp_url = settings.rabbitmq_url
            checks["rabbitmq"] = lambda: rabbitmq_connect(
                amqp_url, settings.rabbitmq_queue, min(settings.rabbitmq_timeout, service_timeout)
            )
        instances: dict[str, list[str]] = {"rasa": [], "action_server": []}
        for number, url in enumerate(settings.rasa_instance_urls, start=1):
            checks[f"rasa_{number}"] = lambda url=url: check_rasa(session, url)
            instances["rasa"].append(f"rasa_{number}")
        for number, url in enumerate(settings.action_instance_urls, start=1):
            checks[f"action_server_{number}"] = lambda url=url: check_action_server(session, url)
            instances["action_server"].append(f"action_server_{number}")
        results = await asyncio.gather(*(_timed(check, timeout) for check in checks.values()))
    named = dict(zip(checks, results, strict=True))
    instance_names = {name for names in instances.values() for name in names}
    required = all(result["ok"] for name, result in named.items() if name not in instance_names)
    if not instance_names:
        return {"ready": required, "checks": named}
    # A cluster: ready while at least one instance of each kind answers; degraded when any does not.
    some_of_each = all(any(named[name]["ok"] for name in names) for names in instances.values() if names)
    degraded = not all(named[name]["ok"] for name in instance_names)
    return {"ready": required and some_of_each, "degraded": degraded, "checks": named}


def readiness_blueprint(settings: Settings) -> Blueprint:
    blueprint = Blueprint("readiness")

    @blueprint.get("/readyz")
    async def readyz(request: Request) -> HTTPResponse:
        report = await readiness(settings, request.app.ctx.db)
        return response.json(report, status=200 if report["ready"] else 503, headers={"Cache-Control": "no-store"})

    return blueprint
