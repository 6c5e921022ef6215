"""The endpoints file Rasa is started with, and the reachability checks of Redis and RabbitMQ (issue #7).

`endpoints.yml` is the base (action server, tracker store). Rasa fills `${VARIABLES}` in it from the
environment but cannot leave out a section whose variable is unset, so `ijm-bot run` gives Rasa a generated
copy (`var/rasa-endpoints-<hash>.yml`) with two optional sections added:

- `lock_store` (Rasa's RedisLockStore) when REDIS_URL is set: the per-conversation locks live in Redis, so
  several Rasa servers (or Sanic workers) can share the conversations;
- `event_broker` (Rasa's PikaEventBroker) when RABBITMQ_URL is set: every conversation event is also
  published to the RabbitMQ queue RABBITMQ_QUEUE (through Rasa's fanout exchange `rasa-exchange`).

No password is written in the file: it says `${IJM_REDIS_PASSWORD}` / `${IJM_RABBITMQ_PASSWORD}` and the
values go to the Rasa process in its environment only. The file is written with mode 0600 all the same.

Rasa 3.6 itself never falls back to memory for these two: RedisLockStore connects lazily (a Redis down
makes each message fail after REDIS_TIMEOUT seconds, socket_timeout below), and an unreachable broker makes
the Rasa server exit at start after its connection attempts. `ijm-bot run` checks both before starting
anything (`check_redis`, `check_rabbitmq`), so a wrong URL is named at once instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, quote, unquote, urlsplit

from bot.settings import PROJECT_ROOT, SettingsError

if TYPE_CHECKING:
    from bot.settings import Settings

BASE_ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
GENERATED_DIR = PROJECT_ROOT / "var"
REDIS_PASSWORD_VARIABLE = "IJM_REDIS_PASSWORD"
RABBITMQ_PASSWORD_VARIABLE = "IJM_RABBITMQ_PASSWORD"
# Rasa's default is 20 attempts 5 s apart (100 s of silence at start); `ijm-bot run` has checked RabbitMQ
# just before, so a few quick attempts are enough before the Rasa server gives up (and exits, loudly).
RABBITMQ_CONNECTION_ATTEMPTS = 3
RABBITMQ_RETRY_DELAY_SECONDS = 2


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    ssl: bool

    def display(self) -> str:
        """Where it is, for messages: never the password."""
        return f"{'rediss' if self.ssl else 'redis'}://{self.host}:{self.port}/{self.db}"


@dataclass(frozen=True)
class AmqpTarget:
    host: str
    port: int
    vhost: str
    username: str
    password: str
    ssl: bool

    def connect_arguments(self) -> dict[str, object]:
        """aio_pika.connect's keyword arguments for this server (timeouts and options are the caller's)."""
        return {
            "host": self.host,
            "port": self.port,
            "login": self.username,
            "password": self.password,
            "virtualhost": self.vhost,
            "ssl": self.ssl,
        }

    def display(self) -> str:
        vhost = "" if self.vhost == "/" else quote(self.vhost, safe="")
        return f"{'amqps' if self.ssl else 'amqp'}://{self.username}:***@{self.host}:{self.port}/{vhost}"


def _split(value: str, name: str, schemes: tuple[str, ...], example: str) -> SplitResult:
    shown = f"{value.split('@')[-1]!r}" if "@" in value else repr(value)  # never the credentials
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise SettingsError(f"{name} must look like {example}, got ...{shown}")
    try:
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise SettingsError(f"{name} has a port that is not a number: ...{shown}") from None
    if not parts.hostname:
        raise SettingsError(f"{name} must name a host, like {example}; got ...{shown}")
    return parts


def parse_redis_url(value: str, name: str = "REDIS_URL") -> RedisTarget:
    """redis://[[user]:password@]host[:port][/db] (rediss:// for TLS) as Rasa's RedisLockStore wants it."""
    parts = _split(value, name, ("redis", "rediss"), "redis://[:password@]host:6379/0")
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise SettingsError(f"{name} must end with a database number (/0, /1, ...), got /{db_text}")
    return RedisTarget(
        host=parts.hostname,
        port=parts.port or 6379,
        db=int(db_text),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ssl=parts.scheme == "rediss",
    )


def parse_amqp_url(value: str, name: str = "RABBITMQ_URL") -> AmqpTarget:
    """amqp://user:password@host[:port][/vhost] (amqps:// for TLS); guest/guest and vhost / by default."""
    parts = _split(value, name, ("amqp", "amqps"), "amqp://user:password@host:5672/vhost")
    ssl = parts.scheme == "amqps"
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    return AmqpTarget(
        host=parts.hostname,
        port=parts.port or (5671 if ssl else 5672),
        vhost=vhost,
        username=unquote(parts.username) if parts.username else "guest",
        password=unquote(parts.password) if parts.password is not None else "guest",
        ssl=ssl,
    )


def check_key_prefix(value: str) -> None:
    # Rasa ignores a prefix that is not alphanumeric (with a warning) and uses plain "lock:" keys.
    if not value.isalnum() or not value.isascii():
        raise SettingsError(f"REDIS_KEY_PREFIX must be letters and digits only, got {value!r}")


def check_queue_name(value: str) -> None:
    if len(value.encode()) > 255 or value.startswith("amq.") or not value.isprintable() or " " in value:
        raise SettingsError(
            f"RABBITMQ_QUEUE must be a RabbitMQ queue name (up to 255 bytes, no spaces, not amq.*), got {value!r}"
        )


PARSERS: dict[str, Callable[[str], object]] = {"REDIS_URL": parse_redis_url, "RABBITMQ_URL": parse_amqp_url}
NAME_CHECKS: dict[str, Callable[[str], None]] = {
    "REDIS_KEY_PREFIX": check_key_prefix,
    "RABBITMQ_QUEUE": check_queue_name,
}


# ---------------------------------------------------------------------------------------------------------
# The generated endpoints file


def _value(value: object) -> str:
    """A YAML scalar: JSON's quoted strings, numbers and booleans are valid YAML."""
    return json.dumps(value)


def extra_sections(settings: Settings) -> tuple[str, dict[str, str]]:
    """The YAML added to endpoints.yml for the settings, and the secrets it refers to as ${NAME}.

    `${NAME}` is left unquoted: Rasa substitutes environment variables only in plain scalars.
    """
    lines: list[str] = []
    secrets: dict[str, str] = {}
    if settings.redis_url:
        redis = parse_redis_url(settings.redis_url)
        lines += [
            "# REDIS_URL: conversation locks in Redis (Rasa's RedisLockStore); no fallback to memory.",
            "lock_store:",
            "  type: redis",
            f"  url: {_value(redis.host)}",
            f"  port: {redis.port}",
            f"  db: {redis.db}",
            f"  use_ssl: {_value(redis.ssl)}",
            f"  key_prefix: {_value(settings.redis_key_prefix)}",
            # Connecting and every command: a Redis that does not answer is an error after this, not a hang.
            f"  socket_timeout: {settings.redis_timeout}",
        ]
        if redis.username:
            lines.append(f"  username: {_value(redis.username)}")
        if redis.password:
            lines.append(f"  password: ${{{REDIS_PASSWORD_VARIABLE}}}")
            secrets[REDIS_PASSWORD_VARIABLE] = redis.password
    if settings.rabbitmq_url:
        amqp = parse_amqp_url(settings.rabbitmq_url)
        # Rasa builds its connection URL as "<scheme>://<username>:<password>@<netloc><path>" from these,
        # without quoting: the user and the password go in URL-quoted, the vhost in the path.
        scheme = "amqps" if amqp.ssl else "amqp"
        vhost_path = "" if amqp.vhost == "/" else "/" + quote(amqp.vhost, safe="")
        lines += [
            "# RABBITMQ_URL: every conversation event is published to RabbitMQ (Rasa's PikaEventBroker).",
            "event_broker:",
            "  type: pika",
            f"  url: {_value(f'{scheme}://{amqp.host}:{amqp.port}{vhost_path}')}",
            f"  port: {amqp.port}",
            f"  username: {_value(quote(amqp.username, safe=''))}",
            f"  password: ${{{RABBITMQ_PASSWORD_VARIABLE}}}",
            f"  queues: [{_value(settings.rabbitmq_queue)}]",
            f"  connection_attempts: {RABBITMQ_CONNECTION_ATTEMPTS}",
            f"  retry_delay_in_seconds: {RABBITMQ_RETRY_DELAY_SECONDS}",
        ]
        secrets[RABBITMQ_PASSWORD_VARIABLE] = quote(amqp.password, safe="")
    return ("\n".join(lines) + "\n" if lines else ""), secrets


@dataclass(frozen=True)
class RasaEndpoints:
    path: Path  # what `rasa run --endpoints` gets
    env: dict[str, str]  # the secrets the file names as ${NAME}, for the Rasa process only


def rasa_endpoints(settings: Settings, base: Path = BASE_ENDPOINTS, out_dir: Path = GENERATED_DIR) -> RasaEndpoints:
    """endpoints.yml as it is when nothing is added, else a generated copy with the sections added.

    The copy is named after its content, so runs with the same settings share it and runs with other
    settings (tests, in parallel) never overwrite each other's; it holds no secret.
    """
    extra, secrets = extra_sections(settings)
    if not extra:
        return RasaEndpoints(base, {})
    base_text = base.read_text(encoding="utf-8")
    for section in ("lock_store:", "event_broker:"):
        if any(line.startswith(section) for line in base_text.splitlines()):
            raise SettingsError(f"{base.name} already has a {section[:-1]} section: remove it (ijm-bot run adds it)")
    text = (
        "# Generated by `ijm-bot run` from endpoints.yml and the settings (bot/endpoints.py): do not edit.\n"
        + base_text.rstrip("\n")
        + "\n\n"
        + extra
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"rasa-endpoints-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yml"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        handle, temporary = tempfile.mkstemp(dir=out_dir, prefix=".rasa-endpoints-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp: mode 0600 already
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    path.chmod(0o600)
    os.utime(path)
    _prune(out_dir, keep=path)
    return RasaEndpoints(path, secrets)


def _prune(out_dir: Path, keep: Path, older_than_seconds: float = 24 * 3600) -> None:
    """Remove generated files not used for a day (Rasa reads its file only at start)."""
    cutoff = time.time() - older_than_seconds
    for old in out_dir.glob("rasa-endpoints-*.yml"):
        with contextlib.suppress(OSError):  # another run may be pruning too
            if old != keep and old.stat().st_mtime < cutoff:
                old.unlink()


# ---------------------------------------------------------------------------------------------------------
# Reachability (ijm-bot run before starting, /readyz while running)


class Unreachable(RuntimeError):
    """Redis or RabbitMQ did not answer as it should; the message is fit for a person."""


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def redis_ping(url: str, timeout: float) -> str:
    """PING the Redis of `url` within `timeout` seconds; return what answered, raise Unreachable otherwise."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
    from redis.exceptions import TimeoutError as RedisTimeout

    target = parse_redis_url(url)
    client = aioredis.Redis(
        host=target.host,
        port=target.port,
        db=target.db,
        username=target.username,
        password=target.password,
        ssl=target.ssl,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry_on_timeout=False,
    )
    try:
        await asyncio.wait_for(client.ping(), timeout + 0.5)
        info = await asyncio.wait_for(client.info("server"), timeout + 0.5)
    except (asyncio.TimeoutError, RedisTimeout):
        raise Unreachable(f"Redis at {target.display()} did not answer within {timeout:g} s") from None
    except (RedisError, OSError) as error:
        raise Unreachable(f"cannot reach Redis at {target.display()}: {_reason(error)}") from None
    finally:
        with contextlib.suppress(Exception):  # closing a broken connection may fail; nothing to do about it
            await asyncio.wait_for(client.close(close_connection_pool=True), 1)
    return f"PONG from Redis {info.get('redis_version', '?')} at {target.display()}"


async def rabbitmq_connect(url: str, queue: str, timeout: float) -> str:
    """Open an AMQP connection within `timeout` seconds and look at `queue`; raise Unreachable otherwise."""
    import aio_pika
    import aiormq.exceptions

    target = parse_amqp_url(url)

    async def attempt() -> str:
        connection = await aio_pika.connect(**target.connect_arguments(), timeout=timeout)
        try:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                return f"connected to {target.display()}; queue {queue!r} not declared yet (Rasa declares it)"
            waiting = declared.declaration_result.message_count
            return f"connected to {target.display()}; queue {queue!r} holds {waiting} message(s)"
        finally:
            await connection.close()

    try:
        return await asyncio.wait_for(attempt(), timeout + 0.5)
    except asyncio.TimeoutError:
        raise Unreachable(f"RabbitMQ at {target.display()} did not answer within {timeout:g} s") from None
    except Exception as error:  # aio_pika and aiormq raise many kinds; all mean "not usable"
        raise Unreachable(f"cannot reach RabbitMQ at {target.display()}: {_reason(error)}") from None


def check_redis(settings: Settings) -> str:
    assert settings.redis_url is not None
    return asyncio.run(redis_ping(settings.redis_url, settings.redis_timeout))


def check_rabbitmq(settings: Settings) -> str:
    assert settings.rabbitmq_url is not None
    return asyncio.run(rabbitmq_connect(settings.rabbitmq_url, settings.rabbitmq_queue, settings.rabbitmq_timeout))


def unreachable_services(settings: Settings) -> list[str]:
    """Check the configured Redis and RabbitMQ (each bounded by its timeout); the problems found, if any."""
    problems: list[str] = []
    checks = [("REDIS_URL", settings.redis_url, check_redis), ("RABBITMQ_URL", settings.rabbitmq_url, check_rabbitmq)]
    for name, configured, check in checks:
        if not configured:
            continue
        started = time.monotonic()
        try:
            check(settings)
        except Unreachable as error:
            problems.append(f"{error} ({name}; checked in {time.monotonic() - started:.1f} s)")
    return problems
