"""The outbox worker against real local receivers: an HTTP server (pytest-httpserver) that fails, times out
and recovers, and an SMTP server (aiosmtpd). Time is advanced through `now`, never slept away."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.outbox.delivery import build_email
from bot.outbox.worker import READY_LINE, _claim, backoff_seconds, drain_once, run_forever
from bot.storage.app_db import create_engine, outbox
from bot.supporters.delivery_config import DeliveryConfig, SmtpConfig
from bot.supporters.records import Origin, record_enquiry, subscribe
from tests.conftest import ROOT
from tests.unit.supporters_db import free_port, migrated_database

CONSENT = "Yes, IJM Canada may e-mail me its newsletter."
ORIGIN = Origin(conversation_id="conv-7", channel="rest")
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
LATER = timedelta(hours=2)  # beyond any back-off in these tests


class Receiver:
    """A webhook receiver as a real service would be: it keeps one copy per Idempotency-Key."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[tuple[str, str, bytes]] = []  # (mode, key, body) of every request that came in
        self.accepted: dict[str, dict] = {}
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        mode = self.mode
        with self.lock:
            self.requests.append((mode, key, request.get_data()))
        if mode.startswith("status "):
            return Response("no", status=int(mode.split()[1]))
        if mode == "slow":
            time.sleep(1.0)  # the sender has given up by now, but this receiver still processes the record
        if mode == "slow-ok":
            time.sleep(0.02)
        with self.lock:
            self.accepted.setdefault(key, json.loads(request.get_data()))
        return Response('{"ok": true}', status=200, content_type="application/json")

    def count(self, mode: str) -> Counter:
        return Counter(key for m, key, _ in self.requests if m == mode)


@pytest.fixture
def receiver():
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    server.start()
    handler = Receiver()
    for path in ("/newsletter", "/leads"):
        server.expect_request(path, method="POST").respond_with_handler(handler)
    handler.url = server.url_for("")
    yield handler
    server.clear()
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        engine.test_url = url
        yield engine
        engine.dispose()


def webhooks(receiver: Receiver, **overrides) -> DeliveryConfig:
    settings = {
        "newsletter_webhook_url": receiver.url.rstrip("/") + "/newsletter",
        "leads_webhook_url": receiver.url.rstrip("/") + "/leads",
        "smtp": None,
        "timeout_seconds": 0.5,
        "max_backoff_seconds": 600,
    }
    return DeliveryConfig(**{**settings, **overrides})


def add_records(engine, config: DeliveryConfig, count: int = 3) -> None:
    for n in range(count):
        subscribe(
            engine,
            email=f"reader{n}@example.com",
            first_name=None,
            consent_text=CONSENT,
            origin=ORIGIN,
            delivery=config,
        )
    for kind in ("media", "message"):
        record_enquiry(
            engine,
            kind=kind,
            team="media" if kind == "media" else "general",
            team_email=None,
            name="Ann",
            email="ann@example.com",
            details={"question": "Can we talk?"},
            origin=ORIGIN,
            delivery=config,
        )


def outbox_rows(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(outbox).order_by(outbox.c.id)).all()


def test_failures_timeouts_then_recovery_deliver_every_record_exactly_once(engine, receiver):
    config = webhooks(receiver)
    add_records(engine, config)
    keys = {row.idempotency_key: json.loads(row.payload) for row in outbox_rows(engine)}
    assert len(keys) == 5

    receiver.mode = "status 500"
    counts = drain_once(engine, config, T0)
    assert (counts.sent, counts.retried, counts.failed) == (0, 5, 0)
    assert all(row.status == "pending" and row.last_error.startswith("HTTP 500") for row in outbox_rows(engine))
    assert drain_once(engine, config, T0 + timedelta(seconds=1)).attempted == 0  # backing off, nothing due yet

    receiver.mode = "slow"
    counts = drain_once(engine, config, T0 + LATER)
    assert (counts.sent, counts.retried) == (0, 5)
    assert all("no answer within" in row.last_error for row in outbox_rows(engine))

    receiver.mode = "ok"
    counts = drain_once(engine, config, T0 + 2 * LATER)
    assert (counts.sent, counts.retried, counts.failed) == (5, 0, 0)
    assert drain_once(engine, config, T0 + 3 * LATER).attempted == 0
    time.sleep(1.2)  # let the slow handlers finish their (late) processing

    # Nothing lost: the receiver holds every record, once per key, as it was recorded.
    assert receiver.accepted == keys
    # Once the receiver works, each record arrives exactly once; every attempt carried the same bytes and key.
    assert receiver.count("ok") == Counter(dict.fromkeys(keys, 1))
    bodies = defaultdict(set)
    for _, key, body in receiver.requests:
        bodies[key].add(body)
    assert all(len(sent) == 1 for sent in bodies.values())
    assert {row.status for row in outbox_rows(engine)} == {"sent"}
    assert all(row.attempts == 3 and row.sent_at == T0 + 2 * LATER for row in outbox_rows(engine))


def test_two_workers_at_once_send_each_record_once(engine, receiver):
    config = webhooks(receiver)
    add_records(engine, config, count=20)
    receiver.mode = "slow-ok"
    results = []

    def worker() -> None:
        results.append(drain_once(engine, config, T0))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(r.sent for r in results) == 22
    assert len(receiver.requests) == 22
    assert set(receiver.count("slow-ok").values()) == {1}
    assert {row.status for row in outbox_rows(engine)} == {"sent"}


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_refusal_fails_for_good_and_is_not_retried(engine, receiver, status):
    config = webhooks(receiver)
    add_records(engine, config, count=1)
    receiver.mode = f"status {status}"
    assert drain_once(engine, config, T0).failed == 3
    assert drain_once(engine, config, T0 + LATER).attempted == 0
    assert all(row.status == "failed" and row.last_error == f"HTTP {status}: no" for row in outbox_rows(engine))
    assert len(receiver.requests) == 3


@pytest.mark.parametrize("status", [408, 429, 502, 503, 302])
def test_a_temporary_answer_is_retried(engine, receiver, status):
    config = webhooks(receiver)
    add_records(engine, config, count=1)
    receiver.mode = f"status {status}"
    assert drain_once(engine, config, T0).retried == 3
    receiver.mode = "ok"
    assert drain_once(engine, config, T0 + LATER).sent == 3


def test_an_unreachable_webhook_is_retried(engine):
    config = DeliveryConfig(f"http://127.0.0.1:{free_port()}/hook", None, None, timeout_seconds=0.5)
    add_records(engine, config, count=1)
    assert drain_once(engine, config, T0).retried == 1
    (row,) = outbox_rows(engine)
    assert row.status == "pending" and row.last_error.startswith("could not connect")
    assert row.next_attempt_at > T0


def test_a_worker_that_dies_mid_delivery_leaves_the_row_to_be_sent_later(engine, receiver):
    config = webhooks(receiver)
    add_records(engine, config, count=1)
    first = outbox_rows(engine)[0]
    with engine.begin() as connection:  # claimed, then the worker "dies" before settling it
        assert _claim(connection, first.id, 0, T0, timedelta(minutes=5))
    assert drain_once(engine, config, T0 + timedelta(minutes=1)).sent == 2
    assert drain_once(engine, config, T0 + timedelta(minutes=6)).sent == 1
    assert {row.status for row in outbox_rows(engine)} == {"sent"}


def test_backoff_grows_exponentially_with_a_little_jitter_and_a_cap():
    assert [backoff_seconds(n, 3600, jitter=lambda: 0.0) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff_seconds(3, 3600, jitter=lambda: 1.0) == pytest.approx(44)
    assert backoff_seconds(30, 3600) == 3600
    assert backoff_seconds(500, 60) == 60


class Mailbox:
    def __init__(self, refuse: bool = False) -> None:
        self.messages: list = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port():
    return free_port()


def smtp_server(port: int, mailbox: Mailbox) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def fundraiser(engine, config: DeliveryConfig) -> int:
    return record_enquiry(
        engine,
        kind="fundraiser",
        team="events",
        team_email="events@ijm.ca",
        name="Bob Smith",
        email="bob@example.com",
        details={"event_kind": "bake sale", "event_date": "June 3"},
        origin=ORIGIN,
        delivery=config,
    )


def test_an_enquiry_reaches_the_team_by_email_with_its_fields(engine, smtp_port):
    mailbox = Mailbox()
    controller = smtp_server(smtp_port, mailbox)
    try:
        config = DeliveryConfig(None, None, SmtpConfig(host="127.0.0.1", port=smtp_port), timeout_seconds=2)
        enquiry_id = fundraiser(engine, config)
        assert drain_once(engine, config, T0).sent == 1
    finally:
        controller.stop()

    (row,) = outbox_rows(engine)
    (sender, recipients, content) = mailbox.messages[0]
    assert len(mailbox.messages) == 1
    assert (sender, recipients) == ("assistant@ijm.ca", ["events@ijm.ca"])
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"] == "Fundraiser enquiry from the website assistant: Bob Smith"
    assert message["To"] == "events@ijm.ca"
    assert message["Reply-To"] == "bob@example.com"
    assert row.idempotency_key in message["Message-ID"]
    body = message.get_content()
    for line in (
        "Name: Bob Smith",
        "E-mail: bob@example.com",
        "Event kind: bake sale",
        "Event date: June 3",
        "Conversation: conv-7 (channel: rest)",
        f"Enquiry number: {enquiry_id}",
    ):
        assert line in body


def test_with_the_smtp_server_down_the_mail_waits_then_goes_once(engine, smtp_port):
    config = DeliveryConfig(None, None, SmtpConfig(host="127.0.0.1", port=smtp_port), timeout_seconds=2)
    fundraiser(engine, config)
    assert drain_once(engine, config, T0).retried == 1
    (row,) = outbox_rows(engine)
    assert row.status == "pending" and "could not reach the SMTP server" in row.last_error

    mailbox = Mailbox()
    controller = smtp_server(smtp_port, mailbox)
    try:
        assert drain_once(engine, config, T0 + timedelta(seconds=1)).attempted == 0  # not due yet
        assert drain_once(engine, config, T0 + LATER).sent == 1
        assert drain_once(engine, config, T0 + 2 * LATER).attempted == 0
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1
    assert outbox_rows(engine)[0].status == "sent"


def test_a_refused_recipient_fails_for_good(engine, smtp_port):
    controller = smtp_server(smtp_port, Mailbox(refuse=True))
    try:
        config = DeliveryConfig(None, None, SmtpConfig(host="127.0.0.1", port=smtp_port), timeout_seconds=2)
        fundraiser(engine, config)
        assert drain_once(engine, config, T0).failed == 1
    finally:
        controller.stop()
    (row,) = outbox_rows(engine)
    assert row.status == "failed" and "550" in row.last_error


def test_a_visitor_cannot_inject_mail_headers():
    payload = {
        "kind": "message",
        "name": "Eve\r\nBcc: victim@example.com",
        "email": "eve@example.com",
        "to": "info@ijm.ca",
        "details": {"message": "hello\r\nBcc: other@example.com"},
        "created_at": T0.isoformat(),
        "record_id": 1,
    }
    message = build_email(payload, "key-1", "assistant@ijm.ca")
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Message from the website assistant: Eve Bcc: victim@example.com"


def test_run_forever_delivers_until_told_to_stop(engine, receiver):
    config = webhooks(receiver)
    add_records(engine, config, count=1)
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(engine, config, 0.1, stop))
    thread.start()
    deadline = time.monotonic() + 10
    while len(receiver.accepted) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(receiver.accepted) == 3


def test_the_worker_process_delivers_logs_ids_only_and_stops_on_sigterm(engine, receiver):
    config = webhooks(receiver)
    env = {
        **os.environ,
        "DATABASE_URL": engine.test_url,
        "NEWSLETTER_WEBHOOK_URL": config.newsletter_webhook_url,
        "LEADS_WEBHOOK_URL": config.leads_webhook_url,
        "OUTBOX_POLL_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.outbox"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == READY_LINE
        add_records(engine, config, count=1)
        deadline = time.monotonic() + 15
        while len(receiver.accepted) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0
    assert len(receiver.accepted) == 3
    assert output.count("Delivered outbox row") == 3
    assert "Outbox worker stopped" in output
    assert "example.com" not in output and "Ann" not in output


def test_a_malformed_row_is_retried_without_stopping_the_worker(engine):
    config = DeliveryConfig(None, None, SmtpConfig(host="127.0.0.1", port=free_port()), timeout_seconds=1)
    with engine.begin() as connection:
        connection.execute(
            outbox.insert().values(
                record_type="enquiry",
                record_id=1,
                destination="team_email",
                payload="{}",
                idempotency_key="k-1",
                status="pending",
                attempts=0,
                next_attempt_at=T0,
                created_at=T0,
            )
        )
    assert drain_once(engine, config, T0).retried == 1
    (row,) = outbox_rows(engine)
    assert (row.status, row.last_error) == ("pending", "unexpected error: KeyError")
