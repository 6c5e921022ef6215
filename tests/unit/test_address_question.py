"""Asking for IJM's e-mail address is not a newsletter sign-up (bot/nlu/address_question.py)."""

from __future__ import annotations

import pytest

from bot.nlu.address_question import AddressNotSubscription
from tests.unit.nlu_messages import parsed


@pytest.mark.parametrize("text", ["email?", "and the email?", "email pls", "whats the email adress", "e-mail address?",
                                  "contact email"])  # fmt: skip
def test_a_short_question_for_the_address_goes_to_the_contacts(text):
    message = parsed(text, [("subscribe_newsletter", 0.62), ("talk_to_person", 0.2), ("donate", 0.1)])
    AddressNotSubscription({}).process([message])
    assert message.get("intent") == {"name": "talk_to_person", "confidence": 0.62}
    assert [r["name"] for r in message.get("intent_ranking")] == ["talk_to_person", "donate", "subscribe_newsletter"]


@pytest.mark.parametrize("text", ["sign me up for emails", "email me updates", "newsletter email", "my email is "
                                  "ana@example.org", "subscribe", "I want to get your emails", "add my email please",
                                  "can you send me an email every month about your work"])  # fmt: skip
def test_signing_up_stays_signing_up(text):
    message = parsed(text, [("subscribe_newsletter", 0.9), ("talk_to_person", 0.05)])
    AddressNotSubscription({}).process([message])
    assert message.get("intent")["name"] == "subscribe_newsletter"


def test_other_intents_are_left_alone():
    message = parsed("email?", [("donate", 0.5), ("subscribe_newsletter", 0.3)])
    AddressNotSubscription({}).process([message])
    assert message.get("intent")["name"] == "donate"
