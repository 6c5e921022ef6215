"""`ijm-bot run --instances N` (N >= 2): N Rasa servers and N action servers behind nginx (issue #7).

The layout, on one machine:

    visitors ──► nginx :RASA_PORT ──(hash on the conversation)──► Rasa server 1..N (127.0.0.1, internal ports)
                                                                        │ ACTION_SERVER_URL
             nginx :ACTION_PORT ◄───────────────────────────────────────┘
                  └─(round robin, a dead one skipped)──► action server 1..N (127.0.0.1, internal ports)
    visitors ──► nginx :WEB_PORT ──► web app (127.0.0.1, internal port)        outbox worker (no port)

- Each conversation sticks to one Rasa server: nginx's `hash ... consistent` on, in order, the REST sender
  in the query (`?sender=`), the widget's session id in its socket.io connection URL (`?conversation=`, on
  every engine.io request of the connection), an `X-Conversation-Id` header, else the client's address.
  Rasa open source's Redis lock serialises the messages of one conversation *within* the lock's lifetime but
  does not stop two servers from working on one conversation at once with stale trackers, so a conversation
  must not be spread. When its server is down (connection refused), nginx sends it to the next server on the
  ring (`proxy_next_upstream error timeout`), which reads the conversation from the shared database.
- The action servers are stateless, so they are one pool behind nginx (ACTION_PORT) that every Rasa server
  calls: an action server that dies does not take a Rasa server's conversations with it.
- The Rasa and action servers are restarted when they exit (bot/supervisor.py, `restart_on_exit`); the
  web app, the outbox worker and nginx are needed by everyone: if one of them dies, everything stops.

The cluster needs a database every process shares (PostgreSQL, not SQLite) and Redis (REDIS_URL) for
Rasa's conversation locks; `ijm-bot run` refuses to start a cluster without them, or without nginx.
The internal ports are a block of consecutive free ports from CLUSTER_PORT_BASE (default RASA_PORT + 100), outside
the kernel's ephemeral port range: web app, nginx's status port, then the action servers, then the Rasa servers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import hashlib
import os
import re
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings
from bot.supervisor import ServiceSpec

TEMPLATE = Path(__file__).resolve().parent / "templates" / "nginx.conf"
GENERATED_DIR = PROJECT_ROOT / "var"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
INSTALL_NGINX = "apt-get install -y nginx-light   (or: apt-get install -y nginx)"
# nginx skips a server after this many failed attempts, for this long, then tries it again with one request.
MAX_FAILS = 1
FAIL_TIMEOUT_SECONDS = 5
INTERNAL_HOST = "127.0.0.1"


class ClusterRefused(RuntimeError):
    """The cluster cannot be started as configured; the message says what to change."""


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)


def check_cluster(settings: Settings, database_url: str, instances: int) -> str:
    """Refuse a cluster that would not be one; return the nginx executable otherwise."""
    if instances < 2:
        raise ClusterRefused(f"--instances must be 1 (the default) or, for a cluster, at least 2; got {instances}")
    if database_url.startswith("sqlite"):
        raise ClusterRefused(
            "--instances needs a database every process shares: set DATABASE_URL to PostgreSQL "
            "(postgresql://user:password@host/db). SQLite files are not shared safely by several Rasa servers."
        )
    if not settings.redis_url:
        raise ClusterRefused(
            "--instances needs REDIS_URL (redis://host:6379/0): Rasa's per-conversation locks must be shared "
            "by the Rasa servers, otherwise two of them may handle one conversation's messages at once."
        )
    nginx = find_nginx()
    if nginx is None:
        raise ClusterRefused(f"--instances needs nginx in front of the Rasa servers. Install it: {INSTALL_NGINX}")
    return nginx


def _port_free(port: int, host: str = INTERNAL_HOST) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def ephemeral_port_range() -> range:
    """The kernel's range for the local ports of outgoing connections (Linux's default when it can't be read)."""
    try:
        low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def allocate_ports(
    count: int,
    start: int,
    avoid: tuple[int, ...] = (),
    host: str = INTERNAL_HOST,
    ephemeral: range | None = None,
) -> list[int]:
    """`count` consecutive ports from `start` up, all free now, none of `avoid`, and none in the kernel's
    ephemeral range: a port there may be free now and, seconds later when our server binds it, the local end of
    an outgoing connection (to the database, Redis, an action server)."""
    ephemeral = ephemeral_port_range() if ephemeral is None else ephemeral
    port = max(start, 1024)
    while port + count - 1 <= 65535:
        block = range(port, port + count)
        if ephemeral and block.start <= ephemeral[-1] and ephemeral.start <= block[-1]:
            port = ephemeral[-1] + 1
            continue
        taken = next((p for p in block if p in avoid or not _port_free(p, host)), None)
        if taken is None:
            return list(block)
        port = taken + 1
    raise ClusterRefused(f"no {count} consecutive free ports from {start} up: set CLUSTER_PORT_BASE")


@dataclass(frozen=True)
class ClusterLayout:
    instances: int
    bind_host: str  # where nginx listens for visitors (BIND_HOST)
    rasa_port: int  # nginx: the chat (RASA_PORT)
    action_port: int  # nginx: the action servers, for the Rasa servers (ACTION_PORT)
    web_port: int  # nginx: the web app (WEB_PORT)
    internal_web_port: int
    status_port: int
    action_ports: tuple[int, ...]
    rasa_ports: tuple[int, ...]

    @classmethod
    def plan(cls, settings: Settings, instances: int) -> ClusterLayout:
        public = (settings.rasa_port, settings.action_port, settings.web_port)
        start = settings.cluster_port_base or settings.rasa_port + 100
        ports = allocate_ports(2 * instances + 2, start, avoid=public)
        return cls(
            instances=instances,
            bind_host=settings.bind_host,
            rasa_port=settings.rasa_port,
            action_port=settings.action_port,
            web_port=settings.web_port,
            internal_web_port=ports[0],
            status_port=ports[1],
            action_ports=tuple(ports[2 : 2 + instances]),
            rasa_ports=tuple(ports[2 + instances :]),
        )

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        return tuple(f"http://{INTERNAL_HOST}:{port}" for port in self.rasa_ports)

    @property
    def action_urls(self) -> tuple[str, ...]:
        return tuple(f"http://{INTERNAL_HOST}:{port}/webhook" for port in self.action_ports)


def _listen_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def render_nginx_config(layout: ClusterLayout, prefix: Path, user: str | None = None) -> str:
    """nginx.conf for `layout`, with its pid, temporary files and paths under `prefix`."""
    server = f"max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT_SECONDS}s"
    values = {
        "instances": str(layout.instances),
        "prefix": str(prefix),
        # As root, nginx would hand its workers to an unprivileged user that cannot write under `prefix`:
        # they run as the user running `ijm-bot run`, like every other process of the assistant.
        "user_line": f"user {user};" if user else "# (not root: nginx's workers run as this user)",
        "listen_host": _listen_host(layout.bind_host),
        "action_listen_host": _listen_host(layout.bind_host),
        "rasa_port": str(layout.rasa_port),
        "action_port": str(layout.action_port),
        "public_web_port": str(layout.web_port),
        "web_port": str(layout.internal_web_port),
        "status_port": str(layout.status_port),
        "rasa_servers": "\n".join(f"        server {INTERNAL_HOST}:{p} {server};" for p in layout.rasa_ports),
        "action_servers": "\n".join(f"        server {INTERNAL_HOST}:{p} {server};" for p in layout.action_ports),
        "instance_names": "\n".join(
            f'        "~(^|, ){re.escape(INTERNAL_HOST)}:{port}$" rasa-{number};'
            for number, port in enumerate(layout.rasa_ports, start=1)
        ),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    rendered = re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], text)
    return rendered


@dataclass(frozen=True)
class NginxFiles:
    prefix: Path
    conf: Path

    def command(self, nginx: str) -> list[str]:
        return [nginx, "-p", str(self.prefix), "-c", str(self.conf), "-e", "stderr", "-g", "daemon off;"]


def write_nginx_config(layout: ClusterLayout, out_dir: Path = GENERATED_DIR) -> NginxFiles:
    """The config in var/nginx-<hash of the layout>/nginx.conf, with its temp/ folders."""
    user = getpass.getuser() if os.geteuid() == 0 else None
    key = hashlib.sha256(repr((dataclasses.astuple(layout), user, TEMPLATE.read_bytes())).encode()).hexdigest()[:12]
    prefix = (out_dir / f"nginx-{key}").resolve()
    for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "temp" / folder).mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)  # nginx opens logs/error.log under the prefix before reading -e
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_config(layout, prefix, user), encoding="utf-8")
    os.utime(prefix)
    _prune(out_dir, keep=prefix)
    return NginxFiles(prefix, conf)


def _prune(out_dir: Path, keep: Path, older_than_seconds: float = 24 * 3600) -> None:
    """Remove the folders of other layouts unused for a day (tests use many); never one whose nginx runs."""
    cutoff = time.time() - older_than_seconds
    for old in out_dir.glob("nginx-*"):
        with contextlib.suppress(OSError):
            if old != keep and not (old / "nginx.pid").exists() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old)


def cluster_service_specs(
    settings: Settings,
    single: list[ServiceSpec],
    layout: ClusterLayout,
    nginx: str,
    nginx_files: NginxFiles,
    specs_for: Callable[[Settings], list[ServiceSpec]],
) -> list[ServiceSpec]:
    """The processes of the cluster, from the one-instance specs (`specs_for(settings)` is bot.cli.service_specs).

    `single` are the specs `ijm-bot run` would start alone; the web app and the outbox worker are taken from
    them (the web app moved to its internal port behind nginx), the Rasa and action servers made N times.
    """
    trusted = ",".join(dict.fromkeys((*settings.trusted_proxies, INTERNAL_HOST)))  # nginx is a trusted proxy
    by_name = {spec.name: spec for spec in single}
    specs: list[ServiceSpec] = []
    for number, port in enumerate(layout.action_ports, start=1):
        own = dataclasses.replace(settings, bind_host=INTERNAL_HOST, action_port=port)
        own = dataclasses.replace(own, action_server_url=layout.action_urls[number - 1])
        spec = {s.name: s for s in specs_for(own)}["action server"]
        specs.append(dataclasses.replace(spec, name=f"action server {number}", restart_on_exit=True))
    for number, port in enumerate(layout.rasa_ports, start=1):
        # Every Rasa server calls the action servers through nginx (settings.action_server_url: ACTION_PORT).
        own = dataclasses.replace(
            settings, bind_host=INTERNAL_HOST, rasa_port=port, rasa_url=layout.rasa_urls[number - 1]
        )
        spec = {s.name: s for s in specs_for(own)}["Rasa server"]
        specs.append(
            dataclasses.replace(
                spec, name=f"Rasa server {number}", env={**spec.env, "TRUSTED_PROXIES": trusted}, restart_on_exit=True
            )
        )
    web = by_name["web app"]
    specs.append(
        dataclasses.replace(
            web,
            ready_url=f"http://{INTERNAL_HOST}:{layout.internal_web_port}/healthz",
            env={
                **web.env,
                "BIND_HOST": INTERNAL_HOST,
                "WEB_PORT": str(layout.internal_web_port),
                # Visitors reach it through nginx on WEB_PORT: its public address and origins stay those.
                "PUBLIC_URL": settings.public_url,
                "ALLOWED_ORIGINS": ",".join(settings.allowed_origins),
                "RASA_URL": settings.rasa_url,
                "ACTION_SERVER_URL": settings.action_server_url,
                "TRUSTED_PROXIES": trusted,
                # /readyz checks each instance too (bot/web/readiness.py).
                "RASA_INSTANCE_URLS": ",".join(layout.rasa_urls),
                "ACTION_INSTANCE_URLS": ",".join(layout.action_urls),
            },
        )
    )
    specs.append(by_name["outbox worker"])
    specs.append(
        ServiceSpec(
            name="nginx",
            command=nginx_files.command(nginx),
            ready_url=f"http://{INTERNAL_HOST}:{layout.status_port}/",
            env=dict(os.environ),
            cwd=nginx_files.prefix,
        )
    )
    return specs


def cluster_banner(layout: ClusterLayout, nginx_files: NginxFiles) -> str:
    rasa = ", ".join(str(p) for p in layout.rasa_ports)
    actions = ", ".join(str(p) for p in layout.action_ports)
    return (
        f"  Cluster:         {layout.instances} Rasa servers (127.0.0.1:{rasa}) and {layout.instances} action "
        f"servers (127.0.0.1:{actions}) behind nginx ({nginx_files.conf});\n"
        f"                   REST clients: add ?sender=<sender> to the URL so each conversation stays on one server"
    )


def build_cluster(
    settings: Settings,
    instances: int,
    nginx: str,
    single: list[ServiceSpec],
    specs_for: Callable[[Settings], list[ServiceSpec]],
) -> tuple[list[ServiceSpec], str]:
    """The cluster's processes (ports allocated, nginx's config written) and the lines added to the banner."""
    layout = ClusterLayout.plan(settings, instances)
    files = write_nginx_config(layout)
    specs = cluster_service_specs(settings, single, layout, nginx, files, specs_for)
    return specs, cluster_banner(layout, files) + "\n"
