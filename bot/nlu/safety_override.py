"""The last word on safety in the NLU pipeline: a disclosure of danger always reaches `disclose_danger`.

Two tiers decide, and the message records which fired (`safety` in the parse data, shown in the console):

- **model**: the trained classifier reads the message as a disclosure. It wins over every other reading that a
  plea for help can look like ("stop them please…", "hi i need help they won't let me go", "no one lets me
  leave"): when the top intent is one of `plea_intents` (stop, greet, deny, thank, the fallback…) and the model
  still gives `disclose_danger` at least `plea_min_confidence`, the message is a disclosure.
- A question about IJM itself (`topic_question`) needs the model to be sure (`topic_question_min_confidence`)
  unless the net fires too: history questions full of danger words are the model's typical misfire.
- **net**: a recall net of phrases for what the model misses. A phrase only counts with a person ("I", "me",
  "my", "we", "someone I know", French "je", "mon"…) within `person_window` characters of it, so that questions
  about IJM's work full of the same words ("were the girls kept in a brothel?", "workers being held in captivity
  at a brick kiln") keep their own answer.

A missed disclosure costs far more than a needless safety answer; both are measured on the safety corpus
(`ijm-bot evaluate`, tests/nlu/safety_corpus.yml).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

INTENT_RANKING_KEY = "intent_ranking"
# The parse-data key that says which tier fired: {"tier": "model" | "net" | "model+net", ...}.
SAFETY_KEY = "safety"
# "why do…", "how does…", "what is…?": a question about the world, not about the one asking
GENERAL_QUESTION = re.compile(r"^(why|how|what|when|where|which|who|is|are|does|do|can)\b|\?\s*$")


@dataclass(frozen=True)
class SafetyVerdict:
    model: bool
    net: bool
    model_confidence: float

    @property
    def tier(self) -> str | None:
        return "+".join(name for name, fired in (("model", self.model), ("net", self.net)) if fired) or None


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, accents kept (French patterns spell them out or allow both)."""
    return unicodedata.normalize("NFC", text).replace("’", "'").replace("‘", "'").casefold()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyOverride(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent": "disclose_danger",
            "patterns": [],
            "person": r"\b(i|me|my|we|us|our)\b",
            "person_window": 60,
            "person_ignore": None,
            "plea_intents": [],
            "plea_min_confidence": 0.2,
            "topic_question": None,
            "topic_question_min_confidence": 0.8,
        }

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
        config = {**self.get_default_config(), **config}
        self.intent = config["intent"]
        self.patterns = [re.compile(p, re.IGNORECASE) for p in config["patterns"]]
        self.person = re.compile(config["person"], re.IGNORECASE)
        self.window = int(config["person_window"])
        # A person who only reports or studies ("I read that…", "my class is studying…") is not one in danger.
        self.person_ignore = re.compile(config["person_ignore"], re.IGNORECASE) if config["person_ignore"] else None
        self.plea_intents = frozenset(config["plea_intents"])
        self.plea_min_confidence = float(config["plea_min_confidence"])
        # A question about IJM's work ("is IJM's work sustainable after they leave a country?") is read as a
        # disclosure by the model alone only when it is sure; a disclosure that names IJM still has the net.
        self.topic_question = re.compile(config["topic_question"], re.IGNORECASE) if config["topic_question"] else None
        self.topic_question_min_confidence = float(config["topic_question_min_confidence"])

    def net_matches(self, text: str) -> bool:
        """A danger phrase with a person near it."""
        normalised = normalise(text)
        if self.person_ignore is not None:
            normalised = self.person_ignore.sub(lambda m: " " * len(m.group(0)), normalised)
        for pattern in self.patterns:
            for match in pattern.finditer(normalised):
                around = normalised[max(0, match.start() - self.window) : match.end() + self.window]
                if self.person.search(around):
                    return True
        return False

    def verdict(self, text: str, intent: dict | None, ranking: list[dict]) -> SafetyVerdict:
        top = (intent or {}).get(INTENT_NAME_KEY)
        confidence = next(
            (float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in ranking if r.get(INTENT_NAME_KEY) == self.intent),
            float((intent or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0) if top == self.intent else 0.0,
        )
        # A plea-like reading ("please make it stop", "hi, I can't leave") counts, but not for a general question
        # the model only half placed ("why do people get trafficked?"): a question counts with a person in it.
        plea = top in self.plea_intents and confidence >= self.plea_min_confidence
        if plea and GENERAL_QUESTION.search(normalise(text).strip()) and not self.person.search(normalise(text)):
            plea = False
        model = top == self.intent or plea
        net = self.net_matches(text)
        if model and not net and self.about_ijm(text) and confidence < self.topic_question_min_confidence:
            model = False
        return SafetyVerdict(model=model, net=net, model_confidence=confidence)

    def about_ijm(self, text: str) -> bool:
        return self.topic_question is not None and bool(self.topic_question.search(normalise(text)))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            ranking = message.get(INTENT_RANKING_KEY) or []
            verdict = self.verdict(text, message.get(INTENT), ranking)
            if verdict.tier is None:
                continue
            confidence = 1.0 if verdict.net else max(verdict.model_confidence, 0.0)
            chosen = {INTENT_NAME_KEY: self.intent, PREDICTED_CONFIDENCE_KEY: confidence}
            others = [r for r in ranking if r.get(INTENT_NAME_KEY) != self.intent]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)
            message.set(
                SAFETY_KEY,
                {"tier": verdict.tier, "model": verdict.model, "net": verdict.net,
                 "model_confidence": round(verdict.model_confidence, 4)},
                add_to_output=True,
            )  # fmt: skip
        return messages
