"""Redis down with REDIS_URL set (issue #7): a clear error within a bounded time, never a hang.

- At start, `ijm-bot run` refuses with a message naming Redis and REDIS_URL, whether the port is closed or
  a server accepts the connection and never answers (REDIS_TIMEOUT bounds the wait); nothing is started.
- While running (Rasa's lock store connects lazily), a Redis that stops answering makes each message end
  after about REDIS_TIMEOUT with the never-silent apology instead of hanging, and the same conversation goes
  on once Redis answers again. Real Rasa server and real Redis (through a proxy the test can silence).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from bot.cli import service_specs
from bot.model import model_path
from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.supervisor import RunningService
from tests.e2e.harness import IJM_BOT, free_port

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def run_ijm_bot(**settings: str) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(
        os.environ,
        RASA_PORT=str(free_port()),
        ACTION_PORT=str(free_port()),
        WEB_PORT=str(free_port()),
        **settings,
    )
    started = time.monotonic()
    result = subprocess.run([IJM_BOT, "run"], env=env, capture_output=True, text=True, timeout=120)
    return result, time.monotonic() - started


def test_a_closed_redis_port_stops_the_start_with_a_clear_error(tmp_path):
    result, took = run_ijm_bot(
        DATABASE_URL=f"sqlite:///{tmp_path}/ijm.db", REDIS_URL=f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    )
    assert result.returncode == 2, result.stderr
    assert "not starting: a configured service cannot be reached" in result.stderr
    assert "cannot reach Redis at redis://127.0.0.1:" in result.stderr and "(REDIS_URL;" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Rasa server" not in result.stdout  # nothing was started
    assert took < 30  # the check itself: milliseconds; the rest is Python starting up


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (the kernel's backlog) and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_a_redis_that_never_answers_stops_the_start_within_its_timeout(tmp_path):
    with silent_server() as port:
        result, took = run_ijm_bot(
            DATABASE_URL=f"sqlite:///{tmp_path}/ijm.db", REDIS_URL=f"redis://127.0.0.1:{port}/0", REDIS_TIMEOUT="2"
        )
    assert result.returncode == 2, result.stderr
    assert f"Redis at redis://127.0.0.1:{port}/0 did not answer within 2 s" in result.stderr
    assert "Rasa server" not in result.stdout
    assert took < 35


class SwitchableProxy:
    """A TCP proxy to the real Redis that can be made to swallow everything (a Redis that hangs)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.silent = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(client)
            if self.silent.is_set():
                continue  # keep it open, never answer
            upstream = socket.create_connection((REDIS_HOST, REDIS_PORT))
            self.connections.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.silent.is_set():
                    continue  # swallowed
                target.sendall(data)
        except OSError:
            pass

    def go_silent(self) -> None:
        self.silent.set()

    def answer_again(self) -> None:
        self.silent.clear()

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.close()


def say(settings: Settings, sender: str, text: str) -> tuple[str, float]:
    started = time.monotonic()
    answer = requests.post(
        f"{settings.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return "\n".join(m.get("text", "") for m in answer.json()), time.monotonic() - started


def test_redis_hanging_while_running_gives_a_bounded_apology_then_the_conversation_goes_on(tmp_path):
    database_url = f"sqlite:///{tmp_path}/ijm.db"
    upgrade(database_url)
    proxy = SwitchableProxy()
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "WEB_PORT": str(free_port()),
            "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
            "REDIS_KEY_PREFIX": f"ijmtest{uuid.uuid4().hex[:8]}",
            "REDIS_TIMEOUT": "2",
        }
    )
    model = model_path(settings.model_dir)
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `ijm-bot train` (make test does)")
    specs = {spec.name: spec for spec in service_specs(settings, model, database_url)}
    log = io.StringIO()
    rasa = RunningService.start(specs["Rasa server"], log)
    try:
        deadline = time.monotonic() + 300
        while not rasa.is_ready():
            assert rasa.exited() is None, rasa.last_lines()
            assert time.monotonic() < deadline, rasa.last_lines()
            time.sleep(0.5)
        sender = f"redis-down-{uuid.uuid4().hex[:8]}"
        reply, _ = say(settings, sender, "hello")
        assert reply and "something went wrong" not in reply

        proxy.go_silent()
        reply, took = say(settings, sender, "hello again")
        assert took < 15, f"the message took {took:.1f} s with Redis hung"
        assert "something went wrong" in reply  # the never-silent apology, not an empty answer
        assert "Timeout" in log.getvalue() or "LockError" in log.getvalue()

        proxy.answer_again()
        reply, _ = say(settings, sender, "hi")
        assert reply and "something went wrong" not in reply
    finally:
        rasa.stop()
        proxy.close()
