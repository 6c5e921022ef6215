"""The last word on safety in the NLU pipeline: a disclosure of danger always reaches `disclose_danger`.

Two tiers decide, and the message records which fired (`safety` in the parse data, shown in the console):

- **model**: a trained model reads the message as a disclosure. Two models are asked:
  - DIET, the intent classifier. Its disclosure wins over every other reading that a plea for help can look like
    ("stop them please…", "hi i need help they won't let me go", "no one lets me leave"): when the top intent is
    one of `plea_intents` (stop, greet, deny, thank, the fallback…) and DIET still gives `disclose_danger` at
    least `plea_min_confidence`, the message is a disclosure.
  - A disclosure classifier of its own, trained here with the model (`SafetyClassifier`: disclosures against every
    other training example, the small class weighed as much as the large one), fires at `classifier_threshold`.
    Under `classifier_agree_min` it overrules DIET's disclosure: when the classifier is all but sure, the two
    must agree (DIET's misfires were history questions); and with DIET silent (`diet_silent_below`), the classifier
    alone counts only from `classifier_alone_min` (its misfires were short supporter requests: "leave a msg").
    A plea-like reading (DIET's disclosure only second) counts only with the classifier at its threshold:
    retrained, DIET once read "My news feed says human trafficking spikes at big sporting events, is that real?" as
    not understood with a disclosure at 0.38.
    A general question (a question with no person in it) needs DIET as sure as one about IJM: another training
    read "Why do people get trafficked?" as a disclosure at 0.46.
    DIET shares its capacity with some thirty intents and every fact card's questions; more card examples once
    cost it disclosures. This classifier's only question is "is this a disclosure?", so the card data can grow
    without the safety answer paying for it.
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
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.card_matcher import CardClassifier
from bot.nlu.stored import read_stored, write_stored

INTENT_RANKING_KEY = "intent_ranking"
# The parse-data key that says which tier fired: {"tier": "model" | "net" | "model+net", ...}.
SAFETY_KEY = "safety"
# An e-mail address says nothing of danger, and its letters can look like words that do ("danny.rivera@proton.me"
# was read as a disclosure at 0.73 by the classifier): the gate reads the message without them.
EMAIL_ADDRESS = re.compile(r"\S+@\S+")


def without_addresses(text: str) -> str:
    return EMAIL_ADDRESS.sub(" ", text)


# "why do…", "how does…", "what is…?": a question about the world, not about the one asking
GENERAL_QUESTION = re.compile(r"^(why|how|what|when|where|which|who|is|are|does|do|can)\b|\?\s*$")


CLASSIFIER_FILE = "safety_classifier.joblib"
DISCLOSURE, OTHER = "disclosure", "other"


class SafetyClassifier:
    """Is this message a disclosure of danger? One question, learned from the training data: the examples of the
    safety intent against all the others (history questions full of danger words among them)."""

    def __init__(self, disclosures: list[str], others: list[str], regularisation: float) -> None:
        self.model = CardClassifier({DISCLOSURE: disclosures, OTHER: others}, regularisation, class_weight="balanced")

    def probability(self, text: str) -> float:
        return self.model.probabilities(text).get(DISCLOSURE, 0.0)


@dataclass(frozen=True)
class SafetyVerdict:
    model: bool
    net: bool
    model_confidence: float
    classifier_probability: float = 0.0

    @property
    def tier(self) -> str | None:
        return "+".join(name for name, fired in (("model", self.model), ("net", self.net)) if fired) or None


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, accents kept (French patterns spell them out or allow both)."""
    return unicodedata.normalize("NFC", text).replace("’", "'").replace("‘", "'").casefold()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
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
            # the disclosure classifier: scikit-learn's C, and the probability at which it counts (chosen on the
            # tuning safety corpus: 0.5 caught 176/178 alone with no misfire; 0.3 misfired on 12 of 349)
            "classifier_c": 3.0,
            "classifier_threshold": 0.5,
            # DIET's disclosure counts only when the classifier gives it at least this much (the lowest it gave a
            # disclosure of the tuning safety corpus that only a model caught was 0.41)
            "classifier_agree_min": 0.2,
            # ...and the classifier's counts alone, with DIET giving a disclosure less than `diet_silent_below`, only
            # from `classifier_alone_min` ("leave a msg" at 0.60 and "hmm stop, i need to ask my boss first" at 0.53,
            # DIET at 0.02 and 0; no disclosure of the tuning safety corpus is caught by the classifier with DIET
            # that silent)
            "diet_silent_below": 0.05,
            "classifier_alone_min": 0.7,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyOverride:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyOverride:
        classifier = read_stored(model_storage, resource, CLASSIFIER_FILE)
        return cls(config, model_storage, resource, classifier)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        classifier: SafetyClassifier | None = None,
    ) -> None:
        """Without a trained classifier (a unit test's override) only DIET's reading and the net decide."""
        config = {**self.get_default_config(), **config}
        self.model_storage = model_storage
        self.resource = resource
        self.classifier = classifier
        self.classifier_c = float(config["classifier_c"])
        self.classifier_threshold = float(config["classifier_threshold"])
        self.classifier_agree_min = float(config["classifier_agree_min"])
        self.diet_silent_below = float(config["diet_silent_below"])
        self.classifier_alone_min = float(config["classifier_alone_min"])
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

    def train(self, training_data: TrainingData) -> Resource:
        disclosures, others = [], []
        for message in training_data.intent_examples:
            if message.get(TEXT):
                (disclosures if message.get(INTENT) == self.intent else others).append(message.get(TEXT))
        self.classifier = SafetyClassifier(disclosures, others, self.classifier_c) if disclosures else None
        assert self.model_storage is not None and self.resource is not None
        write_stored(self.model_storage, self.resource, CLASSIFIER_FILE, self.classifier)
        return self.resource

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
        probability = self.classifier.probability(text) if self.classifier is not None else 0.0
        plea = top in self.plea_intents and confidence >= self.plea_min_confidence
        general = GENERAL_QUESTION.search(normalise(text).strip()) and not self.person.search(normalise(text))
        if plea and general:
            plea = False
        if plea and self.classifier is not None and probability < self.classifier_threshold:
            plea = False  # DIET's second guess is weak evidence: with a classifier, that classifier must agree
        # The same caution for the classifier: a general question about trafficking is not about the asker.
        classified = probability >= self.classifier_threshold and not general
        if classified and confidence < self.diet_silent_below and probability < self.classifier_alone_min:
            classified = False  # the classifier alone, DIET silent: two opinions must agree here too
        diet = top == self.intent or plea
        if diet and general and confidence < self.topic_question_min_confidence:
            diet = False  # a general question ("why do people get trafficked?") needs DIET to be sure, as one about IJM
        if diet and self.classifier is not None and probability < self.classifier_agree_min:
            diet = False  # DIET alone, the classifier all but sure it is not a disclosure: two opinions must agree
        model = diet or classified
        net = self.net_matches(text)
        if model and not net and self.about_ijm(text) and confidence < self.topic_question_min_confidence:
            model = False
        return SafetyVerdict(model=model, net=net, model_confidence=confidence, classifier_probability=probability)

    def about_ijm(self, text: str) -> bool:
        return self.topic_question is not None and bool(self.topic_question.search(normalise(text)))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = without_addresses(message.get(TEXT) or "")
            ranking = message.get(INTENT_RANKING_KEY) or []
            if not text.strip():
                if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == self.intent:
                    self.overrule(message, ranking, SafetyVerdict(False, False, 0.0, 0.0))
                continue
            verdict = self.verdict(text, message.get(INTENT), ranking)
            if verdict.tier is None:
                if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == self.intent:
                    self.overrule(message, ranking, verdict)
                continue
            confidence = 1.0 if verdict.net else max(verdict.model_confidence, verdict.classifier_probability, 0.0)
            chosen = {INTENT_NAME_KEY: self.intent, PREDICTED_CONFIDENCE_KEY: confidence}
            others = [r for r in ranking if r.get(INTENT_NAME_KEY) != self.intent]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)
            message.set(
                SAFETY_KEY,
                {"tier": verdict.tier, "model": verdict.model, "net": verdict.net,
                 "model_confidence": round(verdict.model_confidence, 4),
                 "classifier_probability": round(verdict.classifier_probability, 4)},
                add_to_output=True,
            )  # fmt: skip
        return messages

    def overrule(self, message: Message, ranking: list[dict], verdict: SafetyVerdict) -> None:
        """DIET chose the safety intent, but the gate does not count it (a question about IJM it was unsure of, or the
        classifier all but sure it is no disclosure): the next reading takes its place, and the parse data says so
        (`safety.overruled`), so the console and the evaluation can find these."""
        others = [r for r in ranking if r.get(INTENT_NAME_KEY) != self.intent]
        if not others:
            return
        demoted = [r for r in ranking if r.get(INTENT_NAME_KEY) == self.intent][:1]
        message.set(INTENT, dict(others[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, [*others, *demoted], add_to_output=True)
        message.set(
            SAFETY_KEY,
            {"tier": None, "overruled": True, "model_confidence": round(verdict.model_confidence, 4),
             "classifier_probability": round(verdict.classifier_probability, 4)},
            add_to_output=True,
        )  # fmt: skip
