"""`ijm-bot run --instances N` without starting anything: the refusals, the ports, nginx's generated config (checked
by `nginx -t` when nginx is installed) and the processes it would start."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import cluster
from bot.cluster import ClusterLayout, ClusterRefused, allocate_ports, check_cluster, render_nginx_config
from bot.settings import Settings
from bot.supervisor import ServiceSpec
from tests.unit.supporters_db import free_port

POSTGRES = "postgresql://ijm@db.internal/ijm"


def settings(**env: str) -> Settings:
    base = {"RASA_PORT": "7005", "ACTION_PORT": "7055", "WEB_PORT": "7000", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    return Settings.from_env({**base, **env})


def layout(instances: int = 2, bind_host: str = "127.0.0.1") -> ClusterLayout:
    return ClusterLayout(
        instances=instances,
        bind_host=bind_host,
        rasa_port=7005,
        action_port=7055,
        web_port=7000,
        internal_web_port=7105,
        status_port=7106,
        action_ports=tuple(range(7107, 7107 + instances)),
        rasa_ports=tuple(range(7107 + instances, 7107 + 2 * instances)),
    )


def test_a_cluster_needs_postgresql_redis_nginx_and_two_instances(monkeypatch):
    monkeypatch.setattr(cluster, "find_nginx", lambda: "/usr/sbin/nginx")
    assert check_cluster(settings(), POSTGRES, 2) == "/usr/sbin/nginx"
    with pytest.raises(ClusterRefused, match="at least 2"):
        check_cluster(settings(), POSTGRES, 0)
    with pytest.raises(ClusterRefused, match=r"database every process shares.*PostgreSQL"):
        check_cluster(settings(), "sqlite:////tmp/ijm.db", 2)
    with pytest.raises(ClusterRefused, match="needs REDIS_URL"):
        check_cluster(settings(REDIS_URL=""), POSTGRES, 2)
    monkeypatch.setattr(cluster, "find_nginx", lambda: None)
    with pytest.raises(ClusterRefused, match="apt-get install -y nginx"):
        check_cluster(settings(), POSTGRES, 2)


def test_ports_are_consecutive_free_and_skip_busy_ones():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        ports = allocate_ports(4, taken - 1 if taken > 1024 else taken)
        assert taken not in ports
        assert ports == list(range(ports[0], ports[0] + 4))
    assert 7000 not in allocate_ports(3, 6999, avoid=(7000,))


def test_internal_ports_stay_out_of_the_range_outgoing_connections_take_theirs_from():
    """A base inside the kernel's ephemeral range (as a test's free port is) moves above it: a port there can be
    taken by an outgoing connection between choosing it and binding it (seen: 'address already in use')."""
    ephemeral = range(30000, 30100)
    assert allocate_ports(3, 29998, ephemeral=ephemeral)[0] >= 30100  # 29998-30000 would overlap it: moves too
    assert allocate_ports(3, 30050, ephemeral=ephemeral)[0] >= 30100
    assert not set(allocate_ports(3, 29000, ephemeral=ephemeral)) & set(ephemeral)
    system = cluster.ephemeral_port_range()
    assert not set(allocate_ports(4, system.start)) & set(system)


def test_the_layout_puts_the_internal_ports_after_the_base_and_clear_of_the_public_ones():
    plan = ClusterLayout.plan(settings(CLUSTER_PORT_BASE="7003"), 3)
    internal = [plan.internal_web_port, plan.status_port, *plan.action_ports, *plan.rasa_ports]
    assert internal == list(range(internal[0], internal[0] + 8))
    assert not {7005, 7055, 7000} & set(internal)
    assert plan.rasa_urls[0] == f"http://127.0.0.1:{plan.rasa_ports[0]}"
    assert plan.action_urls[2] == f"http://127.0.0.1:{plan.action_ports[2]}/webhook"
    assert ClusterLayout.plan(settings(), 2).internal_web_port >= 7105  # default base: RASA_PORT + 100


def test_nginx_config_hashes_on_the_conversation_and_skips_a_dead_server(tmp_path):
    text = render_nginx_config(layout(), tmp_path)
    assert "{{" not in text
    rasa_upstream = text.split("upstream ijm_rasa {")[1].split("}")[0]
    assert "hash $ijm_conversation_key consistent;" in rasa_upstream
    assert "server 127.0.0.1:7109 max_fails=1 fail_timeout=5s;" in rasa_upstream
    assert "server 127.0.0.1:7110 max_fails=1 fail_timeout=5s;" in rasa_upstream
    # A kept-alive connection to a server that just died would lose a POST with a 502 instead of retrying it.
    assert "keepalive" not in rasa_upstream
    actions_upstream = text.split("upstream ijm_actions {")[1].split("}")[0]
    assert "hash" not in actions_upstream and "server 127.0.0.1:7107" in actions_upstream
    assert "keepalive" not in actions_upstream
    # The key: ?sender= (REST), else ?conversation= (socket.io), else X-Conversation-Id, else the address.
    assert "map $arg_sender $ijm_conversation_key" in text
    assert "map $arg_conversation $ijm_key_socket" in text
    assert "map $http_x_conversation_id $ijm_key_header" in text and "$remote_addr;" in text
    assert "proxy_next_upstream error timeout;" in text and "non_idempotent" not in text
    assert '"~(^|, )127\\.0\\.0\\.1:7110$" rasa-2;' in text
    for listen in ("listen 127.0.0.1:7005;", "listen 127.0.0.1:7055;", "listen 127.0.0.1:7000;"):
        assert listen in text
    assert "proxy_pass http://ijm_web;" in text and "server 127.0.0.1:7105;" in text
    assert f"pid {tmp_path}/nginx.pid;" in text and f"proxy_temp_path {tmp_path}/temp/proxy;" in text
    assert "Upgrade $http_upgrade" in text  # socket.io's WebSocket


def test_nginx_listens_on_every_interface_or_ipv6_when_bound_so(tmp_path):
    assert "listen 0.0.0.0:7005;" in render_nginx_config(layout(bind_host="0.0.0.0"), tmp_path)
    assert "listen [::]:7005;" in render_nginx_config(layout(bind_host="::"), tmp_path)


def test_nginx_accepts_the_generated_config(tmp_path):
    nginx = cluster.find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx-light)")
    files = cluster.write_nginx_config(layout(3), tmp_path)
    assert files.prefix.parent == tmp_path and files.prefix.name.startswith("nginx-")
    assert files.command(nginx)[-2:] == ["-g", "daemon off;"]
    result = subprocess.run(
        [nginx, "-t", "-p", str(files.prefix), "-c", str(files.conf), "-e", "stderr"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert cluster.write_nginx_config(layout(3), tmp_path) == files  # same layout, same folder


def fake_specs(own: Settings) -> list[ServiceSpec]:
    """What bot.cli.service_specs gives, reduced to what the cluster reads."""
    env = {"ACTION_SERVER_URL": own.action_server_url}
    return [
        ServiceSpec(
            "action server", ["actions", str(own.action_port), own.bind_host], own.action_server_url, env, Path()
        ),
        ServiceSpec("Rasa server", ["rasa", str(own.rasa_port), own.bind_host], f"{own.rasa_url}/", env, Path()),
        ServiceSpec("web app", ["web"], f"{own.web_url}/healthz", env, Path()),
        ServiceSpec("outbox worker", ["outbox"], None, env, Path(), ready_marker="ready"),
    ]


def test_the_cluster_starts_n_of_each_server_restartable_and_the_rest_once(tmp_path):
    own = settings()
    plan = layout()
    files = cluster.NginxFiles(tmp_path, tmp_path / "nginx.conf")
    specs = cluster.cluster_service_specs(own, fake_specs(own), plan, "/usr/sbin/nginx", files, fake_specs)
    names = [spec.name for spec in specs]
    assert names == [
        "action server 1",
        "action server 2",
        "Rasa server 1",
        "Rasa server 2",
        "web app",
        "outbox worker",
        "nginx",
    ]
    by_name = {spec.name: spec for spec in specs}
    assert [spec.name for spec in specs if spec.restart_on_exit] == names[:4]
    assert by_name["action server 2"].command == ["actions", "7108", "127.0.0.1"]
    rasa = by_name["Rasa server 2"]
    assert rasa.command == ["rasa", "7110", "127.0.0.1"] and rasa.ready_url == "http://127.0.0.1:7110/"
    assert rasa.env["ACTION_SERVER_URL"] == "http://127.0.0.1:7055/webhook"  # the pool, through nginx
    assert "127.0.0.1" in rasa.env["TRUSTED_PROXIES"].split(",")  # nginx's X-Forwarded-For is believed
    web = by_name["web app"].env
    assert web["WEB_PORT"] == "7105" and web["PUBLIC_URL"] == "http://127.0.0.1:7000"
    assert web["RASA_INSTANCE_URLS"] == "http://127.0.0.1:7109,http://127.0.0.1:7110"
    assert "http://127.0.0.1:7000" in web["ALLOWED_ORIGINS"].split(",")
    assert by_name["nginx"].ready_url == "http://127.0.0.1:7106/"


def test_the_instance_urls_reach_the_web_apps_settings():
    parsed = Settings.from_env({"RASA_INSTANCE_URLS": "http://127.0.0.1:1/, http://127.0.0.1:2"})
    assert parsed.rasa_instance_urls == ("http://127.0.0.1:1", "http://127.0.0.1:2")
    assert Settings.from_env({}).rasa_instance_urls == ()


class _Rasa(BaseHTTPRequestHandler):
    """What the Rasa server answers on /readyz's paths (and the action server on /health)."""

    def do_GET(self) -> None:
        body = {"/": "Hello from Rasa: 3.6.20", "/webhooks/rest/": "{}", "/health": "{}"}.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write((body or "").encode())

    def log_message(self, *_: object) -> None:
        pass


def test_readyz_in_a_cluster_stays_ready_with_one_instance_down_and_not_with_none(tmp_path):
    from bot.web.readiness import readiness

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    up = f"http://127.0.0.1:{server.server_address[1]}"
    down = f"http://127.0.0.1:{free_port()}"
    engine = sa.create_engine(f"sqlite:///{tmp_path}/ready.db")

    def report(rasa: list[str], actions: list[str]) -> dict:
        env = {
            "RASA_URL": up,
            "ACTION_SERVER_URL": f"{up}/webhook",
            "RASA_INSTANCE_URLS": ",".join(rasa),
            "ACTION_INSTANCE_URLS": ",".join(f"{url}/webhook" for url in actions),
        }
        return asyncio.run(readiness(Settings.from_env(env), engine, timeout=2))

    try:
        single = asyncio.run(readiness(Settings.from_env({"RASA_URL": up, "ACTION_SERVER_URL": up}), engine))
        assert single["ready"] is True and "degraded" not in single  # one instance: as before
        everything = report([up, up], [up, up])
        assert everything["ready"] is True and everything["degraded"] is False
        assert {"rasa_1", "rasa_2", "action_server_1", "action_server_2"} <= set(everything["checks"])
        one_down = report([up, down], [down, up])
        assert one_down["ready"] is True and one_down["degraded"] is True
        assert not one_down["checks"]["rasa_2"]["ok"] and not one_down["checks"]["action_server_1"]["ok"]
        no_rasa = report([down, down], [up, up])
        assert no_rasa["ready"] is False and no_rasa["degraded"] is True
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()
