"""Start and stop the real assistant (`ijm-bot run`) on free loopback ports for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

from bot.cli import READY_MARKER
from bot.ports import free_port
from bot.settings import PROJECT_ROOT

IJM_BOT = str(Path(sys.executable).with_name("ijm-bot"))
START_TIMEOUT = 400


@dataclass
class Assistant:
    """One `ijm-bot run`, with its ports, its database and its output in a log file."""

    workdir: Path
    database_url: str
    ports: dict[str, int] = field(default_factory=dict)
    # Settings for every start (e.g. the delivery receivers of tests/e2e/conftest.py).
    settings: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['WEB_PORT']}"

    @property
    def rest_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    @property
    def log(self) -> Path:
        return self.workdir / f"ijm-bot-{self.starts}.log"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({name: str(port) for name, port in self.ports.items()})
        env["DATABASE_URL"] = self.database_url
        env.update(self.settings)
        env.update(extra)
        return env

    def start(self, **extra_env: str) -> None:
        if not self.ports:
            self.ports = {name: free_port() for name in ("RASA_PORT", "ACTION_PORT", "WEB_PORT")}
        self.starts += 1
        with open(self.log, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [IJM_BOT, "run"], env=self.env(**extra_env), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            output = self.output()
            if READY_MARKER in output:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"ijm-bot run exited with {self.process.returncode}:\n{output[-4000:]}")
            time.sleep(0.5)
        self.stop()
        raise AssertionError(f"ijm-bot run not ready after {START_TIMEOUT} s:\n{self.output()[-4000:]}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def stop(self) -> int:
        """Stop as a person would (Ctrl-C) and return the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def restart(self) -> None:
        assert self.stop() == 0, self.output()[-4000:]
        self.start()

    def query(self, sql: str, **params: object) -> list:
        """The rows of one SQL query on the assistant's database, read straight from it."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(sa.text(sql), params).all()
        finally:
            engine.dispose()

    def events(self, sender: str) -> list[tuple[str, str | None]]:
        """(type, text) of each event stored for a conversation, read straight from Rasa's `events` table."""
        import json

        rows = self.query("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id", s=sender)
        return [(type_name, json.loads(data).get("text")) for type_name, data in rows]


@contextlib.contextmanager
def running_web_app(workdir: Path, database_url: str, port: int | None = None, **extra_env: str) -> Iterator[str]:
    """The real web app alone (`python -m bot.web`, no Rasa) on `port` (a free one by default); yields its URL."""
    port = port or free_port()
    # Tests write conversations dated anywhere in time: retention must not erase them unless a test asks it to.
    extra_env.setdefault("RETENTION_DAYS", "100000")
    # The console's tests sign in and send feedback many times from 127.0.0.1: tests/unit/test_web_limits.py
    # checks these limits with their own values.
    extra_env.setdefault("FEEDBACK_RATE_LIMIT_PER_IP", "off")
    extra_env.setdefault("LOGIN_RATE_LIMIT_PER_IP", "off")
    env = {**os.environ, "WEB_PORT": str(port), "RASA_PORT": "5999", "DATABASE_URL": database_url, **extra_env}
    with open(workdir / "web.log", "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot.web"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert process.poll() is None, (workdir / "web.log").read_text()
                assert time.monotonic() < deadline, "the web app did not start"
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
