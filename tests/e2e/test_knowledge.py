"""History and impact questions over REST, answered by the trained model and the action server."""

from __future__ import annotations

import uuid

import pytest
import requests

from bot.content.facts import facts
from bot.content.safety import safety_answer

pytestmark = pytest.mark.e2e


class Visitor:
    def __init__(self, assistant) -> None:
        self.url = assistant.rest_url
        self.sender = f"visitor-{uuid.uuid4().hex}"

    def say(self, text: str) -> list[dict]:
        reply = requests.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()


def test_a_fact_question_then_tell_me_more_then_a_place(assistant):
    content = facts()
    visitor = Visitor(assistant)

    founding = visitor.say("when was IJM founded?")
    assert founding[0]["text"].startswith(content.topic("founding").answer)
    assert content.article_url in founding[0]["text"]

    more = visitor.say("tell me more")
    assert more[0]["text"].startswith(content.topic("founding").more)

    cambodia = visitor.say("what happened in Cambodia?")
    assert cambodia[0]["text"].startswith(content.topic("cambodia").answer)


def test_a_question_by_year_gets_that_year(assistant):
    replies = Visitor(assistant).say("what did IJM do in 2010?")
    assert replies[0]["text"].startswith(facts().topic("philippines").answer)


def test_a_disclosure_gets_the_safety_answer_first(assistant):
    replies = Visitor(assistant).say("my boss has my passport and won't let me leave the farm")
    assert replies[0]["text"] == safety_answer().message


def test_a_fact_not_in_the_article_is_not_guessed(assistant):
    replies = Visitor(assistant).say("how big is IJM's yearly budget?")
    text = replies[0]["text"]
    assert text.startswith("I'm sorry, I don't have that information")
    assert "@ijm.ca" in text
