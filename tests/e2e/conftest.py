from __future__ import annotations

import pytest

from tests.e2e.harness import Assistant, free_port
from tests.e2e.receivers import SmtpReceiver, WebhookReceiver


@pytest.fixture(scope="session")
def webhooks():
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def smtp():
    receiver = SmtpReceiver(port=free_port())
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, webhooks, smtp):
    """The real assistant (`ijm-bot run`), delivering sign-ups and leads to the local receivers above."""
    workdir = tmp_path_factory.mktemp("assistant")
    running = Assistant(
        workdir=workdir,
        database_url=f"sqlite:///{workdir}/ijm.db",
        settings={
            "NEWSLETTER_WEBHOOK_URL": webhooks.url("/newsletter"),
            "LEADS_WEBHOOK_URL": webhooks.url("/leads"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "OUTBOX_POLL_SECONDS": "1",
        },
    )
    running.start()
    yield running
    running.stop()
