"""Starting the project's own processes one by one (as `ijm-bot run` specifies them), so a test can stop,
restart or leave out one of them."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import requests

from bot.cli import standalone_specs
from bot.model import model_path
from bot.settings import Settings
from bot.supervisor import RunningService, ServiceFailed, ServiceSpec
from tests.e2e.harness import free_port

APOLOGY = "something went wrong"


def wait_until_ready(service: RunningService, timeout: float = 240) -> None:
    try:
        service.wait_ready(timeout)
    except ServiceFailed as failure:
        pytest.fail(str(failure))


@dataclass
class Services:
    settings: Settings
    database_url: str
    specs: dict[str, ServiceSpec]
    log: io.StringIO = field(default_factory=io.StringIO)
    started: list[RunningService] = field(default_factory=list)

    def start(self, name: str) -> RunningService:
        service = RunningService.start(self.specs[name], self.log)
        self.started.append(service)
        wait_until_ready(service)
        return service

    def say(self, sender: str, text: str, timeout: float = 60) -> str:
        answer = requests.post(
            f"{self.settings.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
        )
        assert answer.status_code == 200, answer.text
        return "\n".join(message.get("text", "") for message in answer.json())


@contextmanager
def project_services(database_url: str, **extra_env: str) -> Iterator[Services]:
    """The processes of `ijm-bot run` on free ports and `database_url` (migrated), none started yet; `extra_env`
    are more settings for them (e.g. NEWSLETTER_WEBHOOK_URL)."""
    # The children read their settings from the environment, as under `ijm-bot run`.
    env = {
        "DATABASE_URL": database_url,
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "WEB_PORT": str(free_port()),
        **extra_env,
    }
    model = model_path(Settings.from_env({**os.environ, **env}).model_dir)
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `ijm-bot train` (make test does)")
    settings, specs = standalone_specs(model, database_url, env)
    services = Services(settings, database_url, specs)
    try:
        yield services
    finally:
        for service in reversed(services.started):
            service.stop()
