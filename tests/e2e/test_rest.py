"""The REST channel of the running assistant: real servers, the trained model, the SQLite database."""

from __future__ import annotations

import uuid

import pytest
import requests

from bot.content.assistant import assistant_content

pytestmark = pytest.mark.e2e


def say(assistant, sender: str, text: str) -> list[dict]:
    reply = requests.post(assistant.rest_url, json={"sender": sender, "message": text}, timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_hi_gets_the_greeting(assistant, domain):
    replies = say(assistant, f"rest-{uuid.uuid4().hex}", "hi")
    assert [r["text"] for r in replies] == [domain["responses"]["utter_greet"][0]["text"]]


def test_what_can_you_do_lists_the_topics_as_buttons(assistant):
    content = assistant_content()
    replies = say(assistant, f"rest-{uuid.uuid4().hex}", "what can you help me with?")
    assert replies[0]["text"] == content.message("capabilities")
    assert replies[0]["buttons"] == content.topic_buttons()


def test_an_off_topic_request_gets_an_honest_answer_and_the_topics(assistant):
    content = assistant_content()
    replies = say(assistant, f"rest-{uuid.uuid4().hex}", "can you order me a large pizza?")
    assert replies[0]["text"] in (content.message("out_of_scope"), content.message("not_understood"))
    assert replies[0]["buttons"] == content.topic_buttons()


def test_the_web_app_is_alive(assistant):
    assert requests.get(f"{assistant.web_url}/healthz", timeout=10).json() == {"status": "ok"}
    page = requests.get(f"{assistant.web_url}/", timeout=10)
    assert page.status_code == 200
    assert "IJM Canada" in page.text


BAD_BODIES = {
    "empty message": (b'{"sender": "bad-input", "message": ""}', 400, "message_empty"),
    "20,000 characters": (
        ('{"sender": "bad-input", "message": "' + "help " * 4000 + '"}').encode(),
        413,
        "message_too_long",
    ),
    "invalid UTF-8": (b'{"sender": "bad-input", "message": "hi \xff\xfe\xfd"}', 400, "body_not_utf8"),
    "no message": (b'{"sender": "bad-input"}', 400, "message_missing"),
    "a JSON array": (b'[{"sender": "bad-input", "message": "hi"}]', 400, "body_not_object"),
    "not JSON": (b'{"sender": "bad-input", "message": ', 400, "body_not_json"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_input_gets_a_clear_4xx_and_the_next_message_is_answered(assistant, domain, case):
    raw, status, code = BAD_BODIES[case]
    sender = f"bad-{uuid.uuid4().hex}"
    raw = raw.replace(b"bad-input", sender.encode())

    refused = requests.post(assistant.rest_url, data=raw, headers={"Content-Type": "application/json"}, timeout=60)

    assert refused.status_code == status
    assert refused.json()["error"] == code
    assert refused.json()["detail"]
    assert assistant.events(sender) == []  # nothing reached the conversation
    assert [r["text"] for r in say(assistant, sender, "hello")] == [domain["responses"]["utter_greet"][0]["text"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status"),
        ("GET", "/version"),
        ("GET", "/conversations/someone/tracker"),
        ("POST", "/conversations/someone/messages"),
        ("POST", "/model/parse"),
        ("PUT", "/model"),
        ("POST", "/model/train"),
    ],
)
def test_rasas_http_api_is_off(assistant, method, path):
    """`ijm-bot run` starts Rasa without --enable-api: no tracker reads, no parsing, no model loading from outside."""
    answer = requests.request(method, f"{assistant.rasa_url}{path}", json={}, timeout=10)
    assert answer.status_code in (404, 405), (path, answer.status_code, answer.text[:200])
