"""PostgreSQL restarted during traffic (issue #7): /readyz goes red, requests during the outage fail cleanly (the
apology, never a hang, no in-memory fallback), messages after it are stored at once, and no committed event is
lost.

The Rasa server and the action server run against a PostgreSQL server of the test's own, which the test
restarts while a visitor keeps writing."""

from __future__ import annotations

import threading
import time
import uuid

import requests
import sqlalchemy as sa

from tests.reliability.private_postgres import private_postgres
from tests.reliability.services import APOLOGY, project_services


def user_texts(database_url: str, sender: str) -> list[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()
    import json

    return [json.loads(row.data)["text"] for row in rows]


def test_a_database_restart_loses_nothing_committed_and_recovers_at_once():
    with private_postgres() as postgres, project_services(postgres.url) as services:
        services.start("action server")
        services.start("Rasa server")
        services.start("web app")
        readyz = f"{services.settings.web_url}/readyz"
        assert requests.get(readyz, timeout=10).status_code == 200
        sender = f"pg-restart-{uuid.uuid4().hex[:8]}"
        before = ["when was IJM founded?", "where does IJM work?", "how can I donate?"]
        for text in before:
            assert APOLOGY not in services.say(sender, text)
        assert user_texts(postgres.url, sender) == before

        # Traffic from another visitor while the database goes down and comes back.
        answers: list[tuple[str, str]] = []
        stop = threading.Event()

        def visitor() -> None:
            other = f"pg-traffic-{uuid.uuid4().hex[:8]}"
            n = 0
            while not stop.is_set():
                n += 1
                text = f"tell me about IJM's impact ({n})"
                try:
                    answers.append((text, services.say(other, text, timeout=30)))
                except requests.RequestException as error:  # a hang or a 5xx would end up here
                    answers.append((text, f"FAILED: {error}"))
                time.sleep(0.2)

        traffic = threading.Thread(target=visitor)
        traffic.start()
        time.sleep(1)
        postgres.stop()
        down = services.say(sender, "who founded IJM?", timeout=30)
        assert APOLOGY in down  # cleanly: no silence, no 500, no hang
        red = requests.get(readyz, timeout=10)
        assert red.status_code == 503 and not red.json()["checks"]["database"]["ok"]
        postgres.start()
        time.sleep(1)
        stop.set()
        traffic.join(timeout=60)

        assert requests.get(readyz, timeout=10).status_code == 200
        after = services.say(sender, "what is IJM's mission?")
        assert APOLOGY not in after  # the first message after the restart is answered and stored
        texts = user_texts(postgres.url, sender)
        assert texts[:3] == before  # nothing committed before the restart was lost
        assert texts[-1] == "what is IJM's mission?"
        assert "who founded IJM?" not in texts  # it was refused, not kept in memory and written later
        assert not [text for text, reply in answers if reply.startswith("FAILED")]
        assert answers and all(reply for _, reply in answers)  # every request got an answer or the apology
