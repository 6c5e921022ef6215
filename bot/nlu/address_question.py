"""Asking for IJM's e-mail address is not signing up for the newsletter: "email?", "and the email?", "email pls",
"whats the email adress" are read by DIET as `subscribe_newsletter` from the word "email", and started the sign-up
form. A short message DIET gave `from_intent` that names an e-mail address and no word of subscribing (newsletter,
sign up, updates, an address of the visitor's own) becomes `to_intent`: the contacts, which give the address.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_change import replace_intent

ADDRESS = re.compile(r"\b(e-?mails?|adress|address|contact)\b", re.IGNORECASE)
SUBSCRIBING = re.compile(
    r"@|\b(news\w*|subscri\w*|sign\w*|updates?|join\w*|list|mailing|inbox|notif\w*|receive|get|send|my|me)\b",
    re.IGNORECASE,
)


def asks_for_the_address(text: str, max_words: int) -> bool:
    """A short message about an e-mail address with nothing of subscribing in it."""
    return len(text.split()) <= max_words and bool(ADDRESS.search(text)) and not SUBSCRIBING.search(text)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AddressNotSubscription(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"from_intent": "subscribe_newsletter", "to_intent": "talk_to_person", "max_words": 5}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AddressNotSubscription:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self.from_intent = str(config["from_intent"])
        self.to_intent = str(config["to_intent"])
        self.max_words = int(config["max_words"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent == self.from_intent and asks_for_the_address(message.get(TEXT) or "", self.max_words):
                replace_intent(message, self.to_intent)
        return messages
