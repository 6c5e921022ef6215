"""Requests recognised by an unmistakable cue when DIET reads them as something else.

Whole conversations through the supporter journeys (tests/nlu/journeys_*.yml) showed requests DIET cannot place
from their words alone, while one phrase in them says what the visitor wants:
- a gift with its amount: "My husband and I are considering a gift of $250,000" was not understood (the form of
  the amount is what DIET has never seen), though the amount and the word "gift" say it all;
- a journalist introducing themselves: "Hi, I'm a reporter working on a story about IJM's 25th anniversary" got the
  25-years card instead of the media team;
- a partnership: "my grade 6 class wants to partner with ijm on something" got a card about partnerships with
  local authorities;
- a way out of a form: "never mind, i'll just email them directly" was read as a mistyped e-mail address.

A greeting before a request ("hi, can i speak with somebody at ijm", "hi what can you help me with") is read by DIET as
the greeting: with `after_greeting`, a message that opens with a greeting and goes on for three words or more takes
DIET's best other reading instead, when what follows asks or wants something (`request`) and DIET gives that reading
at least `min_confidence` (else the greeting stands).

Each cue (config.yml) names the intent it gives, the readings it may replace (`over`; a cue never replaces a
reading it does not list, so a question DIET placed surely stays a question), and a regular expression;
`unless_question` keeps a message that also asks something ("I'm a reporter: when did IJM begin?") as DIET read it.
The new intent gets the cue's `confidence`: the forms read a sure request as a request, not as an answer. A cue with a
`request` also marks the message with it (parse data `request`), for a request within an intent that has no intent of
its own: "how can I help?" is the gift's intent, marked `ways_to_help` (actions/donate.py answers with the ways to
help, the gift first). A new intent would retrain DIET, whose readings of everything else then move.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_change import INTENT_RANKING_KEY, replace_intent

ANY = "any"
# The message key a cue's `request` is set on (read by the actions: actions/donate.py).
REQUEST = "request"
# A question after the cue: a question mark, or a sentence that opens with a question word.
ASKS_SOMETHING = re.compile(r"\?|(?:^|[.!,;:]\s*)(what|when|where|who|why|which|how|did|does|is|are|was|were)\b", re.I)
# ...but asking whom to talk to is part of the request ("i'm a reporter working on a piece, who do i talk to")
ASKS_WHOM_TO_CONTACT = re.compile(
    r"[,.;:!]?\s*\b(who|whom)\s+(do|should|can|could|would)\s+(i|we)\s+(talk|speak|contact|reach|e-?mail|write|ask|"
    r"get in touch)\b[^?]*\??|[,.;:!]?\s*\bwho('s| is) the (right )?(person|contact)\b[^?]*\??",
    re.I,
)


@dataclass(frozen=True)
class Cue:
    intent: str
    over: frozenset[str] | None  # None: any reading but `protected`
    pattern: re.Pattern[str]
    unless_question: bool = False
    # what the message asks within the intent, set on it as `request` ("how can I help?" is the gift's intent, asking
    # for the ways to help): a cue with one applies over its own intent too
    request: str | None = None

    @classmethod
    def from_config(cls, entry: dict[str, Any]) -> Cue:
        over = entry.get("over", ANY)
        return cls(
            intent=str(entry["intent"]),
            over=None if over == ANY else frozenset(str(i) for i in over),
            pattern=re.compile(str(entry["pattern"]), re.IGNORECASE),
            unless_question=bool(entry.get("unless_question", False)),
            request=str(entry["request"]) if entry.get("request") else None,
        )

    def applies(self, text: str, intent: str | None, protected: frozenset[str]) -> bool:
        if (intent == self.intent and self.request is None) or intent in protected:
            return False
        if self.over is not None and intent not in self.over:
            return False
        match = self.pattern.search(text)
        if match is None:
            return False
        rest = ASKS_WHOM_TO_CONTACT.sub(" ", text[match.end() :])
        return not (self.unless_question and ASKS_SOMETHING.search(rest))


@dataclass(frozen=True)
class AfterGreeting:
    intents: frozenset[str]
    pattern: re.Pattern[str]
    asks: re.Pattern[str]  # what follows the greeting must ask or want something
    min_confidence: float
    never: frozenset[str]

    @classmethod
    def from_config(cls, entry: dict[str, Any] | None) -> AfterGreeting | None:
        if not entry:
            return None
        return cls(
            intents=frozenset(str(i) for i in entry.get("intents") or []),
            pattern=re.compile(str(entry["pattern"]), re.IGNORECASE),
            asks=re.compile(str(entry.get("request") or "."), re.IGNORECASE),
            min_confidence=float(entry.get("min_confidence", 0.15)),
            never=frozenset(str(i) for i in entry.get("never") or []),
        )

    def request(self, text: str, intent: str | None, ranking: list[dict[str, Any]]) -> dict[str, Any] | None:
        """DIET's best reading other than the greeting, for a greeting followed by more."""
        greeting = self.pattern.search(text) if intent in self.intents else None
        if greeting is None or not self.asks.search(text[greeting.end(1) :]):  # what follows the greeting word
            return None
        return next(
            (
                entry
                for entry in ranking
                if entry.get(INTENT_NAME_KEY) not in self.never
                and float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0) >= self.min_confidence
            ),
            None,
        )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RequestCues(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"cues": [], "protected": ["disclose_danger"], "confidence": 0.9, "after_greeting": None}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RequestCues:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self.cues = [Cue.from_config(entry) for entry in config["cues"]]
        self.protected = frozenset(str(i) for i in config["protected"])
        self.confidence = float(config["confidence"])
        self.after_greeting = AfterGreeting.from_config(config["after_greeting"])

    def cue_for(self, text: str, intent: str | None) -> Cue | None:
        return next((cue for cue in self.cues if cue.applies(text, intent, self.protected)), None)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = (message.get(TEXT) or "").replace("’", "'")
            if text.startswith("/"):
                continue  # a button's payload says what it wants
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            cue = self.cue_for(text, intent)
            if cue is not None:
                replace_intent(message, cue.intent, confidence=self.confidence)
                if cue.request is not None:
                    message.set(REQUEST, cue.request, add_to_output=True)
            elif self.after_greeting is not None:
                ranking = message.get(INTENT_RANKING_KEY) or []
                if (request := self.after_greeting.request(text, intent, ranking)) is not None:
                    name, sure = request[INTENT_NAME_KEY], float(request.get(PREDICTED_CONFIDENCE_KEY) or 0)
                    replace_intent(message, name, confidence=sure)
        return messages
