"""The newsletter provider down, then slow (issue #7): sign-ups are answered and stored at once, wait in the
outbox, and reach the provider exactly once when it recovers — one Idempotency-Key per sign-up, even when a
slow answer made the worker try again. Real Rasa server, action server and outbox worker; a real HTTP server
as the provider, started on its port only after the sign-up."""

from __future__ import annotations

import json
import threading
import time
import uuid

import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.content.supporters import consent_sentence, prompt_for
from tests.e2e.harness import free_port
from tests.e2e.receivers import wait_for
from tests.reliability.services import APOLOGY, Services, project_services


class SlowThenFastProvider:
    """Keeps every request; the first one is answered only after `first_delay` seconds (past the worker's timeout)."""

    def __init__(self, port: int, first_delay: float) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=port)
        self.first_delay = first_delay
        self.received: list[tuple[str | None, dict]] = []
        self._lock = threading.Lock()

    def _handle(self, request: Request) -> Response:
        with self._lock:
            first = not self.received
            self.received.append((request.headers.get("Idempotency-Key"), json.loads(request.data)))
        if first:
            time.sleep(self.first_delay)  # it does keep the sign-up: only its answer comes too late
        return Response("{}", status=200, content_type="application/json")

    def start(self) -> None:
        self.server.expect_request("/newsletter", method="POST").respond_with_handler(self._handle)
        self.server.start()

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    def keys_for(self, email: str) -> list[str | None]:
        with self._lock:
            return [key for key, body in self.received if body.get("email") == email]


def sign_up(services: Services, email: str) -> None:
    sender = f"provider-{uuid.uuid4().hex[:8]}"
    assert services.say(sender, "I'd like to sign up for your newsletter").endswith(prompt_for("newsletter_email").text)
    assert services.say(sender, email).endswith(prompt_for("newsletter_first_name").text)
    assert consent_sentence() in services.say(sender, "Robin")
    thanks = services.say(sender, "yes, I agree")
    assert "Thank you, Robin" in thanks and APOLOGY not in thanks


def outbox_row(database_url: str, email: str):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT o.status, o.attempts, o.last_error, o.idempotency_key FROM outbox o "
                    "JOIN newsletter_records n ON o.record_type = 'newsletter' AND o.record_id = n.id "
                    "WHERE n.email = :e"
                ),
                {"e": email},
            ).one_or_none()
    finally:
        engine.dispose()


def test_sign_ups_wait_for_a_provider_that_is_down_then_slow_and_arrive_once(tmp_path):
    port = free_port()
    database_url = f"sqlite:///{tmp_path}/ijm.db"
    settings = {
        "NEWSLETTER_WEBHOOK_URL": f"http://127.0.0.1:{port}/newsletter",
        "DELIVERY_TIMEOUT": "1",
        "OUTBOX_POLL_SECONDS": "1",
        "OUTBOX_MAX_BACKOFF": "4",
    }
    provider = SlowThenFastProvider(port, first_delay=3)
    with project_services(database_url, **settings) as services:
        services.start("action server")
        services.start("Rasa server")
        services.start("outbox worker")

        first = f"down-{uuid.uuid4().hex[:8]}@example.org"
        sign_up(services, first)  # answered and stored while the provider is down
        failing = wait_for(lambda: (row := outbox_row(database_url, first)) and row.attempts >= 2 and row, 30)
        assert failing.status == "pending" and failing.last_error  # waiting, not failed for good, not lost

        provider.start()
        try:
            sent = wait_for(lambda: (row := outbox_row(database_url, first)) and row.status == "sent" and row, 60)
            assert sent, outbox_row(database_url, first)
            keys = provider.keys_for(first)
            # The slow first answer timed out and the worker tried again: the provider may see the sign-up more
            # than once, always under the one key it uses to keep it once.
            assert len(keys) >= 2 and set(keys) == {sent.idempotency_key}

            second = f"healthy-{uuid.uuid4().hex[:8]}@example.org"
            sign_up(services, second)
            assert wait_for(lambda: (row := outbox_row(database_url, second)) and row.status == "sent", 30)
            assert len(provider.keys_for(second)) == 1
        finally:
            provider.stop()
