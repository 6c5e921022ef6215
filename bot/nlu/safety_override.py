"""A deterministic safety net after the statistical classifier.

A message that discloses danger must get the safety answer even when the model is unsure or wrong about it
(a missed disclosure costs far more than a needless one). Phrases that only a disclosure uses, listed in
config.yml, set the intent to `disclose_danger` with full confidence. They are anchored on a person ("I",
"my sister", "someone", "they") so that questions about IJM's work ("does IJM fight forced labour?") keep
their own answer.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

INTENT_RANKING_KEY = "intent_ranking"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyOverride(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"intent": "disclose_danger", "patterns": []}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyOverride:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self.intent = config["intent"]
        self.patterns = [re.compile(p, re.IGNORECASE) for p in config["patterns"]]

    def matches(self, text: str) -> bool:
        normalised = text.replace("’", "'")
        return any(pattern.search(normalised) for pattern in self.patterns)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or not self.matches(text):
                continue
            verdict = {INTENT_NAME_KEY: self.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != self.intent]
            message.set(INTENT, verdict, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [verdict, *others], add_to_output=True)
        return messages
