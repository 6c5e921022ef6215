"""The production topology of issue #7 on this machine's real servers: conversations in PostgreSQL, Rasa's
conversation locks in Redis (REDIS_URL) and every event published to a RabbitMQ queue (RABBITMQ_URL,
RABBITMQ_QUEUE), started with `ijm-bot run`; /readyz checks all of them."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.e2e.harness import Assistant
from tests.unit.supporters_db import postgres_schema

pytestmark = pytest.mark.e2e

REDIS = ("127.0.0.1", 6379)
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


class RedisMonitor:
    """Every command Redis receives while it runs (Redis's MONITOR), read in a thread."""

    def __init__(self) -> None:
        self.sock = socket.create_connection(REDIS, timeout=0.5)
        self.sock.sendall(b"MONITOR\r\n")
        self.received = bytearray()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stopped.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self.received += data

    def stop(self) -> str:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()
        return self.received.decode(errors="replace")


async def _take_events(queue: str, sender: str, timeout: float) -> list[dict]:
    """The events of `sender` that reach `queue` within `timeout` seconds (consumed), then delete the queue."""
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    found: list[dict] = []
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(e.get("event") == "bot" for e in found):
            message = await declared.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.2)
                continue
            event = json.loads(message.body)
            if event.get("sender_id") == sender:
                found.append(event)
    finally:
        await connection.close()
    return found


async def _delete_queue(queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
    finally:
        await connection.close()


@contextmanager
def topology_assistant(tmp_path_factory) -> Iterator[tuple[Assistant, str, str]]:
    prefix = f"ijmtest{uuid.uuid4().hex[:10]}"
    queue = f"ijm_test_events_{uuid.uuid4().hex[:10]}"
    with postgres_schema() as database_url:
        assistant = Assistant(
            workdir=tmp_path_factory.mktemp("topology"),
            database_url=database_url,
            settings={
                "REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
                "REDIS_KEY_PREFIX": prefix,
                "RABBITMQ_URL": RABBITMQ_URL,
                "RABBITMQ_QUEUE": queue,
                "RETENTION_DAYS": "100000",
            },
        )
        try:
            assistant.start()
            yield assistant, prefix, queue
        finally:
            assistant.stop()
            asyncio.run(_delete_queue(queue))


def test_redis_locks_rabbitmq_events_postgres_conversations_and_readyz(tmp_path_factory):
    with topology_assistant(tmp_path_factory) as (assistant, prefix, queue):
        output = assistant.output()
        assert "RabbitMQ connection to 'amqp://127.0.0.1:5672' was established" in output

        sender = f"topology-{uuid.uuid4().hex[:8]}"
        monitor = RedisMonitor()
        try:
            answer = requests.post(assistant.rest_url, json={"sender": sender, "message": "hi"}, timeout=60)
        finally:
            commands = monitor.stop()
        assert answer.status_code == 200 and answer.json(), answer.text

        # Rasa took and released the conversation's lock in Redis, under our prefix.
        lock_key = f'"{prefix}:lock:{sender}"'
        assert f'"SET" {lock_key}' in commands, commands[-2000:]
        assert f'"DEL" {lock_key}' in commands

        # The conversation's events reached the queue (and the conversation is in PostgreSQL).
        events = asyncio.run(_take_events(queue, sender, timeout=30))
        kinds = [event["event"] for event in events]
        assert "user" in kinds and "bot" in kinds, kinds
        assert next(e for e in events if e["event"] == "user")["text"] == "hi"
        assert ("user", "hi") in assistant.events(sender)

        ready = requests.get(f"{assistant.web_url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert set(checks) == {"database", "rasa", "action_server", "redis", "rabbitmq"}
        assert all(check["ok"] for check in checks.values()), checks
        assert "postgresql" in checks["database"]["detail"]
        assert "model loaded" in checks["rasa"]["detail"]
        assert queue in checks["rabbitmq"]["detail"]
