"""Real local receivers for the assistant's deliveries: an HTTP server for the webhooks, an SMTP server for e-mail."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@dataclass
class WebhookReceiver:
    """Answers 200 to every POST and keeps (path, Idempotency-Key, JSON body) of each."""

    server: HTTPServer = field(default_factory=lambda: HTTPServer(host="127.0.0.1", port=0))
    received: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.server.expect_request("/newsletter", method="POST").respond_with_handler(self._handle)
        self.server.expect_request("/leads", method="POST").respond_with_handler(self._handle)
        self.server.start()

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.received.append((request.path, request.headers.get("Idempotency-Key"), json.loads(request.data)))
        return Response("{}", status=200, content_type="application/json")

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class SmtpReceiver:
    port: int
    inbox: _Inbox = field(default_factory=_Inbox)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


def wait_for(found: Callable[[], Any], seconds: float = 60.0) -> Any:
    """Poll until `found()` returns something truthy (the outbox worker sends within its poll interval)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.25)
    return found()
