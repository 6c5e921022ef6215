"""The action server down mid-conversation: the visitor gets an apology and a contact, not silence; once it is
back, the same conversation goes on with its history (issue #7). Real Rasa server, real action server, SQLite."""

from __future__ import annotations

import io
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from bot.cli import service_specs
from bot.model import model_path
from bot.settings import Settings
from bot.storage.migrate import upgrade
from bot.supervisor import RunningService
from tests.e2e.harness import free_port


def wait_until_ready(service: RunningService, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.exited() is not None:
            pytest.fail(f"the {service.spec.name} exited:\n{service.last_lines()}")
        if service.is_ready():
            return
        time.sleep(0.5)
    pytest.fail(f"the {service.spec.name} was not ready after {timeout} s:\n{service.last_lines()}")


@pytest.fixture
def servers(tmp_path):
    database_url = f"sqlite:///{tmp_path}/ijm.db"
    upgrade(database_url)
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "WEB_PORT": str(free_port()),
        }
    )
    model = model_path(settings.model_dir)
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `ijm-bot train` (make test does)")
    specs = {spec.name: spec for spec in service_specs(settings, model, database_url)}
    log = io.StringIO()
    started: list[RunningService] = []

    def start(name: str) -> RunningService:
        service = RunningService.start(specs[name], log)
        started.append(service)
        wait_until_ready(service)
        return service

    yield settings, database_url, start
    for service in reversed(started):
        service.stop()


def say(settings: Settings, sender: str, text: str) -> str:
    answer = requests.post(
        f"{settings.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert answer.status_code == 200
    return "\n".join(message.get("text", "") for message in answer.json())


def test_an_apology_while_the_action_server_is_down_then_the_conversation_goes_on(servers):
    settings, database_url, start = servers
    start("Rasa server")  # and no action server
    sender = f"reliability-{uuid.uuid4().hex[:8]}"
    reply = say(settings, sender, "how can I donate?")
    assert "something went wrong" in reply and "info@ijm.ca" in reply and "911" in reply

    start("action server")
    reply = say(settings, sender, "how can I donate?")
    assert "/go/donate" in reply and "something went wrong" not in reply

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        texts = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"), {"s": sender}
        ).all()
    engine.dispose()
    assert len(texts) == 2  # one conversation, both messages kept
