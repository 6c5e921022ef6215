"""Conversations live in the database: a restart of every process loses none of them."""

from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_a_conversation_survives_a_restart_and_continues(assistant, domain):
    sender = f"restart-{uuid.uuid4().hex}"
    first = requests.post(assistant.rest_url, json={"sender": sender, "message": "hi"}, timeout=60)
    assert first.status_code == 200

    assistant.restart()

    assert [text for kind, text in assistant.events(sender) if kind == "user"] == ["hi"]
    second = requests.post(assistant.rest_url, json={"sender": sender, "message": "thanks!"}, timeout=60)
    assert [r["text"] for r in second.json()] == [domain["responses"]["utter_you_are_welcome"][0]["text"]]
    stored = assistant.events(sender)
    assert [text for kind, text in stored if kind == "user"] == ["hi", "thanks!"]
    assert sum(kind == "session_started" for kind, _ in stored) == 1  # the same session, not a new one
