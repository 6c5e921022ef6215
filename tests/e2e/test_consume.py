"""`ijm-bot consume` with this machine's real RabbitMQ (127.0.0.1:5672), each test on a queue of its own (deleted
afterwards): events published by Rasa's own PikaEventBroker code, then by the real assistant (`ijm-bot run` with
RABBITMQ_URL), folded into the stream tables and compared with the console's analytics of the same conversations;
redelivery after a lost acknowledgement, malformed messages, SIGTERM, and a RabbitMQ connection that drops."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from bot.console import analytics as console
from bot.storage.app_db import stream_conversations, stream_seen_events
from bot.stream import analytics as stream
from bot.stream.consumer import ConsumeFailed, StreamConsumer
from bot.stream.fold import observe
from tests.e2e.harness import IJM_BOT, Assistant
from tests.unit.supporters_db import migrated_database, postgres_schema

pytestmark = pytest.mark.e2e

RABBITMQ = ("127.0.0.1", 5672)
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def _today_range() -> console.DateRange:
    today = datetime.now(timezone.utc).date()
    return console.DateRange(today - timedelta(days=1), today)


async def _queue_length(queue: str) -> int:
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count
    finally:
        await connection.close()


async def _delete_queue(queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
    finally:
        await connection.close()


def wait_for_queue(queue: str, at_least: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        length = asyncio.run(_queue_length(queue))
        if length >= at_least or time.monotonic() > deadline:
            return length
        time.sleep(0.2)


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"ijm_test_consume_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        with suppress(Exception):  # never declared: nothing to delete
            asyncio.run(_delete_queue(name))


async def _publish_like_rasa(queue: str, events: list[dict], raw: list[bytes] = ()) -> None:
    """Publish with Rasa's own PikaEventBroker (exchange rasa-exchange, fanout; the queue declared durable and
    bound; the JSON body, PERSISTENT): what the assistant does for each event. `raw` bodies (malformed messages)
    go to the queue alone, through the default exchange."""
    import aio_pika
    from rasa.core.brokers.pika import PikaEventBroker

    broker = PikaEventBroker(
        RABBITMQ[0], "guest", "guest", port=RABBITMQ[1], queues=[queue], event_loop=asyncio.get_running_loop()
    )
    await broker.connect()
    try:
        for event in events:
            broker.publish(event)
        while broker._background_tasks:
            await asyncio.sleep(0.05)
    finally:
        await broker.close()
    if raw:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
        try:
            channel = await connection.channel()
            for body in raw:
                await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue)
        finally:
            await connection.close()


def consume(database_url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "RABBITMQ_URL": RABBITMQ_URL}
    return subprocess.run(
        [IJM_BOT, "consume", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def conversation_events(sender: str, start: float) -> list[dict]:
    """A short conversation, as Rasa publishes it: a greeting, a donation (the link shown), a fallback."""

    def user(text: str, intent: str, confidence: float = 0.95) -> dict:
        return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}

    events = [
        {"event": "action", "name": "action_session_start", "policy": None, "confidence": 1.0},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen", "policy": None, "confidence": None},
        user("hi", "greet"),
        {"event": "bot", "text": "Hello!", "data": {}, "metadata": {}},
        user("how do I give", "donate"),
        {"event": "bot", "text": "Here: http://127.0.0.1/go/donate?c=x", "data": {}, "metadata": {}},
        user("blorf", "nlu_fallback", 0.1),
        {"event": "action", "name": "action_fallback_topics", "policy": "RulePolicy", "confidence": 1.0},
    ]
    return [{"sender_id": sender, **event, "timestamp": start + n} for n, event in enumerate(events)]


def test_consume_refuses_clearly_without_a_usable_rabbitmq(tmp_path):
    with migrated_database("sqlite", tmp_path) as url:
        env = {**os.environ, "DATABASE_URL": url}
        env.pop("RABBITMQ_URL", None)
        unset = subprocess.run([IJM_BOT, "consume", "--once"], env=env, capture_output=True, text=True, timeout=60)
        assert unset.returncode == 2 and "RABBITMQ_URL is not set" in unset.stderr
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        started = time.monotonic()
        refused = subprocess.run(
            [IJM_BOT, "consume"],
            env={**env, "RABBITMQ_URL": f"amqp://guest:secret@127.0.0.1:{port}/", "RABBITMQ_TIMEOUT": "2"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 2, refused.stderr
        assert f"cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:{port}/" in refused.stderr
        assert "secret" not in refused.stderr + refused.stdout
        assert time.monotonic() - started < 30


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_consume_once_folds_what_rasas_broker_publishes_exactly_once(kind, tmp_path, queue):
    start = time.time() - 60
    senders = [f"consume-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    events = [e for n, s in enumerate(senders) for e in conversation_events(s, start + n * 0.001)]
    malformed = [b"not json", b"[1]", b'{"event": "user", "text": "no sender"}']
    with migrated_database(kind, tmp_path) as url:
        asyncio.run(_publish_like_rasa(queue, events, raw=malformed))
        assert wait_for_queue(queue, len(events) + len(malformed)) == len(events) + len(malformed)

        done = consume(url, "--once", "--queue", queue)
        assert done.returncode == 0, done.stdout + done.stderr
        counted = 5 * len(senders)  # 3 messages, the donate link, the fallback action (which finds it counted)
        assert f"{len(events) + len(malformed)} message(s)" in done.stdout, done.stdout
        assert f"{counted} counted" in done.stdout and "3 malformed" in done.stdout, done.stdout
        assert "Skipping a malformed message" in done.stderr
        assert asyncio.run(_queue_length(queue)) == 0  # every message acknowledged

        engine = sa.create_engine(url)
        try:
            period = _today_range()
            conversations, messages = stream.conversations_and_messages(engine, period)
            assert sum(n for _, n in conversations) == 3 and sum(n for _, n in messages) == 9
            assert sorted(stream.top_intents(engine, period)) == [("donate", 3), ("greet", 3), ("nlu_fallback", 3)]
            assert stream.distinct_conversations(engine, period, donation_link=True) == 3

            # The same events delivered again (as after an acknowledgement lost): nothing changes.
            asyncio.run(_publish_like_rasa(queue, events))
            wait_for_queue(queue, len(events))
            again = consume(url, "--once", "--queue", queue)
            assert again.returncode == 0 and f"{counted} already counted" in again.stdout, again.stdout
            assert stream.conversations_and_messages(engine, period) == (conversations, messages)
        finally:
            engine.dispose()


def test_a_crash_between_commit_and_acknowledgement_counts_nothing_twice(tmp_path, queue):
    """The fold commits, then the acknowledgement fails (the connection is lost): the messages stay in the queue,
    and the next run finds their keys and acknowledges them without counting again."""
    events = conversation_events(f"crash-{uuid.uuid4().hex[:8]}", time.time() - 60)
    with migrated_database("sqlite", tmp_path) as url:
        asyncio.run(_publish_like_rasa(queue, events))
        wait_for_queue(queue, len(events))
        engine = sa.create_engine(url)
        try:
            consumer = StreamConsumer(RABBITMQ_URL, queue, engine)

            async def crash_on_ack() -> None:
                import aio_pika.message

                real_ack = aio_pika.message.IncomingMessage.ack

                async def ack(self, multiple: bool = False) -> None:
                    raise ConnectionResetError("connection lost before the acknowledgement")

                aio_pika.message.IncomingMessage.ack = ack
                try:
                    await consumer.run_once(asyncio.Event())
                finally:
                    aio_pika.message.IncomingMessage.ack = real_ack

            with pytest.raises(ConsumeFailed):
                asyncio.run(crash_on_ack())
            with engine.connect() as connection:
                assert connection.execute(sa.select(sa.func.count()).select_from(stream_seen_events)).scalar_one() == 5
            before = stream.daily_counts(engine, _today_range())
            assert asyncio.run(_queue_length(queue)) == len(events)  # given back, unacknowledged

            totals = asyncio.run(StreamConsumer(RABBITMQ_URL, queue, engine).run_once(asyncio.Event()))
            assert (totals.result.counted, totals.result.duplicate) == (0, 5)
            assert stream.daily_counts(engine, _today_range()) == before
            assert asyncio.run(_queue_length(queue)) == 0
        finally:
            engine.dispose()


class DroppingProxy:
    """A TCP proxy to RabbitMQ that the test can cut (every connection closed) and let through again."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(RABBITMQ)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self.lock:
            for s in self.sockets:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.server.close()


def _count_conversations(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(stream_conversations)).scalar_one()
    finally:
        engine.dispose()


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_consume_keeps_going_when_rabbitmq_drops_and_stops_cleanly_on_sigterm(tmp_path, queue):
    proxy = DroppingProxy()
    log = tmp_path / "consume.log"
    with migrated_database("sqlite", tmp_path) as url, open(log, "w", encoding="utf-8") as out:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}/",
            "RABBITMQ_QUEUE": queue,
        }
        process = subprocess.Popen([IJM_BOT, "consume"], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: "Stream consumer ready" in log.read_text(), 60, "not ready: " + log.read_text())
            asyncio.run(_publish_like_rasa(queue, conversation_events("live-1", time.time() - 30)))
            _wait(lambda: _count_conversations(url) == 1, 30, "not folded: " + log.read_text())

            proxy.cut()  # RabbitMQ "goes away"
            _wait(lambda: "Lost RabbitMQ" in log.read_text(), 60, "loss not noticed: " + log.read_text())
            asyncio.run(_publish_like_rasa(queue, conversation_events("live-2", time.time() - 20)))
            time.sleep(2)
            assert process.poll() is None
            proxy.restore()
            _wait(lambda: _count_conversations(url) == 2, 90, "not folded after reconnecting: " + log.read_text())
            assert asyncio.run(_queue_length(queue)) == 0

            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log.read_text()
            assert time.monotonic() - started < 10
            # 18 events, each counted once. live-1's 9 come again when the cut beat their ack to RabbitMQ: then its
            # counted events are seen as already counted and the rest ignored again.
            folded = re.search(r"Folded (\d+) message\(s\) .*?: (\d+) counted, (\d+) already counted", log.read_text())
            assert folded, log.read_text()
            total, counted, redelivered = map(int, folded.groups())
            per_conversation = sum(observe(e) is not None for e in conversation_events("x", time.time()))
            assert counted == 2 * per_conversation, log.read_text()
            assert (total, redelivered) in ((18, 0), (27, per_conversation)), log.read_text()
            assert "Traceback" not in log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            proxy.close()


# --- the real assistant -------------------------------------------------------------------------------------


@contextmanager
def assistant_publishing_to(queue: str, database_url: str, workdir) -> Iterator[Assistant]:
    assistant = Assistant(
        workdir=workdir,
        database_url=database_url,
        settings={"RABBITMQ_URL": RABBITMQ_URL, "RABBITMQ_QUEUE": queue, "RETENTION_DAYS": "100000"},
    )
    try:
        assistant.start()
        yield assistant
    finally:
        assistant.stop()


def test_the_stream_tables_agree_with_the_consoles_analytics_for_real_conversations(tmp_path_factory, queue):
    conversations = {
        "hello": ["hi", "what does IJM do?", "thanks"],
        "giver": ["I want to donate", "thank you"],
        "lost": ["zxq vlorp gnarf", "/nlu_fallback"],  # the second one is classified nlu_fallback for sure
    }
    workdir = tmp_path_factory.mktemp("consume")
    with postgres_schema() as database_url, assistant_publishing_to(queue, database_url, workdir) as assistant:
        run = uuid.uuid4().hex[:8]
        for name, messages in conversations.items():
            for text in messages:
                answer = requests.post(
                    assistant.rest_url, json={"sender": f"{name}-{run}", "message": text}, timeout=60
                )
                assert answer.status_code == 200 and answer.json(), answer.text
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as connection:
                stored = connection.execute(sa.text("SELECT COUNT(*) FROM events")).scalar_one()
            # Rasa publishes each event it stores (before storing it).
            assert wait_for_queue(queue, stored) == stored

            done = consume(database_url, "--once", "--queue", queue)
            assert done.returncode == 0, done.stdout + done.stderr
            assert f"{stored} message(s)" in done.stdout and "0 malformed" in done.stdout, done.stdout
            assert asyncio.run(_queue_length(queue)) == 0

            period = _today_range()
            expected = console.conversations_and_messages(engine, period)
            assert stream.conversations_and_messages(engine, period) == expected
            assert sum(n for _, n in expected[0]) == 3 and sum(n for _, n in expected[1]) == 7
            assert stream.top_intents(engine, period) == console.top_intents(engine, period)
            assert stream.fallback_rate(engine, period) == console.fallback_rate(engine, period)
            shown = console.donation_funnel(engine, period)[1][1]
            assert stream.distinct_conversations(engine, period, donation_link=True) == shown
            assert stream.distinct_conversations(engine, period) == 3
            assert any(rate for _, rate in stream.fallback_rate(engine, period)), "no fallback seen"
        finally:
            engine.dispose()
