"""Every setting of the assistant, read from the environment in this one place.

The README's configuration table lists the same names; keep both in step.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting in the environment has a value that cannot be used."""


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _optional(env: dict[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


def _optional_url(env: dict[str, str], name: str) -> str | None:
    """An http(s) address, or None when the setting is empty (the destination is not configured)."""
    value = _optional(env, name)
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"{name} must be an http:// or https:// address, got {value!r}")
    return value


def _rate(env: dict[str, str], name: str, default: tuple[int, int]) -> tuple[int, int] | None:
    """A rate limit "N/S" (at most N messages in any S seconds); "0" or "off" turns it off (None)."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "off", "none", "false"):
        return None
    count, slash, seconds = raw.partition("/")
    try:
        parsed = (int(count), int(seconds))
    except ValueError:
        parsed = (0, 0)
    if not slash or parsed[0] < 1 or parsed[1] < 1:
        raise SettingsError(f"{name} must be N/SECONDS (e.g. 20/60), 0 or off, got {raw!r}")
    return parsed


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (10.0.0.0/8), each checked."""
    entries = tuple(entry.strip() for entry in env.get(name, "").split(",") if entry.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(f"{name} must list IP addresses or networks, got {entry!r}") from None
    return entries


def _url_list(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated http(s) addresses (set by `ijm-bot run --instances N` for the web app)."""
    urls = tuple(entry.strip().rstrip("/") for entry in env.get(name, "").split(",") if entry.strip())
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"{name} must list http:// or https:// addresses, got {url!r}")
    return urls


def _topology_url(env: dict[str, str], name: str) -> str | None:
    """REDIS_URL or RABBITMQ_URL, checked by the parser that turns it into Rasa's endpoint settings."""
    value = _optional(env, name)
    if value is not None:
        from bot import endpoints  # bot.endpoints imports this module: loaded when first needed

        endpoints.PARSERS[name](value)
    return value


def _topology_name(env: dict[str, str], name: str, default: str) -> str:
    """REDIS_KEY_PREFIX or RABBITMQ_QUEUE, checked as Rasa and RabbitMQ require."""
    value = env.get(name, "").strip() or default
    from bot import endpoints

    endpoints.NAME_CHECKS[name](value)
    return value


def origin_of(url: str) -> str:
    """The origin a browser sends for pages at `url`: scheme://host[:port] (default ports left out)."""
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port and parts.port != default_port else "")


def _default_origins(public_url: str, reach_host: str, web_port: int) -> tuple[str, ...]:
    """The web app's own origins: its public address and its direct one (on loopback, by name too)."""
    origins = [origin_of(public_url), origin_of(f"http://{reach_host}:{web_port}")]
    if reach_host == "127.0.0.1":
        origins.append(f"http://localhost:{web_port}")
    return tuple(dict.fromkeys(origins))


@dataclass(frozen=True)
class Settings:
    database_url: str
    bind_host: str
    rasa_port: int
    action_port: int
    web_port: int
    action_server_url: str
    rasa_url: str
    model_dir: Path
    ready_timeout: int
    max_message_chars: int
    log_level: str
    public_url: str
    allowed_origins: tuple[str, ...]
    # Delivery of supporters' records (bot/outbox/). Nothing configured: records stay in the database only.
    newsletter_webhook_url: str | None
    leads_webhook_url: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str | None
    smtp_password: str | None = field(repr=False)
    smtp_from: str
    delivery_timeout: int
    outbox_poll_seconds: int
    outbox_max_backoff: int
    retention_days: int
    # Chat rate limits (bot/channels/limits.py): (messages, seconds), None when off.
    rate_limit_per_session: tuple[int, int] | None
    rate_limit_per_ip: tuple[int, int] | None
    # The web app's public forms, per client address (bot/web/limits.py): the widget's feedback, console sign-in.
    feedback_rate_limit_per_ip: tuple[int, int] | None
    login_rate_limit_per_ip: tuple[int, int] | None
    trusted_proxies: tuple[str, ...]
    # Topology (issue #7, bot/endpoints.py): Rasa's lock store in Redis and its event broker on RabbitMQ, when set.
    redis_url: str | None = field(repr=False)
    redis_key_prefix: str
    redis_timeout: int
    rabbitmq_url: str | None = field(repr=False)
    rabbitmq_queue: str
    rabbitmq_timeout: int
    # `ijm-bot run --instances N` (bot/cluster.py): where its internal ports start (0: RASA_PORT + 100), and
    # the Rasa and action servers it started, which it tells the web app so /readyz checks each of them.
    cluster_port_base: int = 0
    rasa_instance_urls: tuple[str, ...] = ()
    action_instance_urls: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        host = env.get("BIND_HOST", "127.0.0.1").strip() or "127.0.0.1"
        rasa_port = _int(env, "RASA_PORT", 5005, minimum=1)
        action_port = _int(env, "ACTION_PORT", 5055, minimum=1)
        web_port = _int(env, "WEB_PORT", 8000, minimum=1)
        # Clients reach a server bound to every interface through loopback.
        reach_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        model_dir = Path(env.get("MODEL_DIR", "").strip() or PROJECT_ROOT / "models")
        public_url = (env.get("PUBLIC_URL", "").strip() or f"http://{reach_host}:{web_port}").rstrip("/")
        return cls(
            database_url=env.get("DATABASE_URL", "").strip() or "sqlite:///var/ijm.db",
            bind_host=host,
            rasa_port=rasa_port,
            action_port=action_port,
            web_port=web_port,
            action_server_url=env.get("ACTION_SERVER_URL", "").strip() or f"http://{reach_host}:{action_port}/webhook",
            rasa_url=env.get("RASA_URL", "").strip() or f"http://{reach_host}:{rasa_port}",
            model_dir=model_dir if model_dir.is_absolute() else PROJECT_ROOT / model_dir,
            ready_timeout=_int(env, "READY_TIMEOUT", 300, minimum=1),
            max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 2000, minimum=1),
            log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
            public_url=public_url,
            allowed_origins=tuple(o.strip().rstrip("/") for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
            or _default_origins(public_url, reach_host, web_port),
            newsletter_webhook_url=_optional_url(env, "NEWSLETTER_WEBHOOK_URL"),
            leads_webhook_url=_optional_url(env, "LEADS_WEBHOOK_URL"),
            smtp_host=_optional(env, "SMTP_HOST"),
            smtp_port=_int(env, "SMTP_PORT", 25, minimum=1),
            smtp_starttls=_bool(env, "SMTP_STARTTLS", False),
            smtp_user=_optional(env, "SMTP_USER"),
            # Not stripped: a password may legitimately start or end with a space.
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_from=env.get("SMTP_FROM", "").strip() or "assistant@ijm.ca",
            delivery_timeout=_int(env, "DELIVERY_TIMEOUT", 10, minimum=1),
            outbox_poll_seconds=_int(env, "OUTBOX_POLL_SECONDS", 5, minimum=1),
            outbox_max_backoff=_int(env, "OUTBOX_MAX_BACKOFF", 3600, minimum=1),
            retention_days=_int(env, "RETENTION_DAYS", 365, minimum=1),
            rate_limit_per_session=_rate(env, "RATE_LIMIT_PER_SESSION", (20, 60)),
            rate_limit_per_ip=_rate(env, "RATE_LIMIT_PER_IP", (120, 60)),
            feedback_rate_limit_per_ip=_rate(env, "FEEDBACK_RATE_LIMIT_PER_IP", (60, 60)),
            login_rate_limit_per_ip=_rate(env, "LOGIN_RATE_LIMIT_PER_IP", (20, 600)),
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
            redis_url=_topology_url(env, "REDIS_URL"),
            redis_key_prefix=_topology_name(env, "REDIS_KEY_PREFIX", "ijm"),
            redis_timeout=_int(env, "REDIS_TIMEOUT", 2, minimum=1),
            rabbitmq_url=_topology_url(env, "RABBITMQ_URL"),
            rabbitmq_queue=_topology_name(env, "RABBITMQ_QUEUE", "ijm_assistant_events"),
            rabbitmq_timeout=_int(env, "RABBITMQ_TIMEOUT", 3, minimum=1),
            cluster_port_base=_int(env, "CLUSTER_PORT_BASE", 0, minimum=0),
            rasa_instance_urls=_url_list(env, "RASA_INSTANCE_URLS"),
            action_instance_urls=_url_list(env, "ACTION_INSTANCE_URLS"),
        )

    @property
    def web_url(self) -> str:
        host = "127.0.0.1" if self.bind_host in ("0.0.0.0", "::") else self.bind_host
        return f"http://{host}:{self.web_port}"
