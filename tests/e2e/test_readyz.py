"""GET /readyz on the real web app (`python -m bot.web`): green when everything answers, red (503, the
failing check named) when something does not, and always within a bounded time (issue #7).

The Rasa server and the action server are stood in for by small HTTP servers answering what the real ones
answer on the paths /readyz uses (test_topology.py checks /readyz against the real ones); Redis and
RabbitMQ are the real ones on this machine."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.e2e.harness import free_port, running_web_app

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"

ANSWERS = {
    "/": "Hello from Rasa: 3.6.20",  # the Rasa server's root, once its model is loaded
    "/webhooks/rest/": '{"status": "ok"}',  # its REST channel
    "/health": '{"status": "ok"}',  # the action server
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = ANSWERS.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write((body or "not found").encode())

    def log_message(self, *_: object) -> None:
        pass


@contextlib.contextmanager
def stand_in_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (the kernel's backlog) and never answers: a hung Redis or RabbitMQ."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def readyz(url: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = requests.get(f"{url}/readyz", timeout=30)
    return answer, time.monotonic() - started


def test_readyz_is_green_when_everything_answers(tmp_path):
    queue = f"ijm_readyz_{uuid.uuid4().hex[:8]}"
    with (
        stand_in_server() as rasa_port,
        stand_in_server() as action_port,
        running_web_app(
            tmp_path,
            f"sqlite:///{tmp_path}/ijm.db",
            RASA_PORT=str(rasa_port),
            ACTION_PORT=str(action_port),
            REDIS_URL=REDIS_URL,
            RABBITMQ_URL=RABBITMQ_URL,
            RABBITMQ_QUEUE=queue,
        ) as url,
    ):
        answer, _ = readyz(url)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["ready"] is True
        assert set(report["checks"]) == {"database", "rasa", "action_server", "redis", "rabbitmq"}
        for check in report["checks"].values():
            assert check["ok"] is True and check["detail"] and isinstance(check["milliseconds"], int)
        assert "model loaded" in report["checks"]["rasa"]["detail"]
        assert "PONG" in report["checks"]["redis"]["detail"]
        assert queue in report["checks"]["rabbitmq"]["detail"]
        assert answer.headers["Cache-Control"] == "no-store"
        # /healthz stays the plain "alive" answer.
        assert requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}


def test_readyz_is_red_and_names_the_action_server_when_it_is_down(tmp_path):
    with (
        stand_in_server() as rasa_port,
        running_web_app(
            tmp_path, f"sqlite:///{tmp_path}/ijm.db", RASA_PORT=str(rasa_port), ACTION_PORT=str(free_port())
        ) as url,
    ):
        answer, took = readyz(url)
        assert answer.status_code == 503
        report = answer.json()
        assert report["ready"] is False
        assert set(report["checks"]) == {"database", "rasa", "action_server"}  # no Redis/RabbitMQ configured
        assert report["checks"]["action_server"]["ok"] is False
        assert "/health" in report["checks"]["action_server"]["detail"]
        assert report["checks"]["rasa"]["ok"] and report["checks"]["database"]["ok"]
        assert took < 3


def test_readyz_answers_within_its_bound_when_everything_is_down_or_hung(tmp_path):
    with (
        silent_server() as hung_redis,
        silent_server() as hung_rabbitmq,
        running_web_app(
            tmp_path,
            f"sqlite:///{tmp_path}/ijm.db",
            RASA_PORT=str(free_port()),
            ACTION_PORT=str(free_port()),
            REDIS_URL=f"redis://:hunter2@127.0.0.1:{hung_redis}/0",
            RABBITMQ_URL=f"amqp://guest:hunter2@127.0.0.1:{hung_rabbitmq}/",
        ) as url,
    ):
        answer, took = readyz(url)
        assert answer.status_code == 503
        checks = answer.json()["checks"]
        assert {name for name, check in checks.items() if not check["ok"]} == {
            "rasa",
            "action_server",
            "redis",
            "rabbitmq",
        }
        assert checks["database"]["ok"] is True
        assert "did not answer within" in checks["redis"]["detail"]
        assert "did not answer within" in checks["rabbitmq"]["detail"]
        assert "hunter2" not in answer.text
        assert took < 4  # the checks run at once, each bounded by 2 s
