"""Does the article answer this question at all? A classifier of its own, so that a question about a detail the
article never gives ("does Gary Haugen have kids?", "who signed the Dominican bill?") is told so before the closest
card, instead of getting that card as if it were the answer.

The card matcher (bot/nlu/card_matcher.py) ranks cards by how close a question is to their questions, and a question
about Gary Haugen's family is close to the founder's card. Which detail is asked is what tells the two apart, and the
cards' own questions never show a detail the article lacks: this component learns it from questions sorted by
writers who read the article (data/answerability/questions.yml, questions_second.yml) and from the `ask_ijm_unknown`
examples, against the cards' and the follow-ups' questions. TF-IDF over character n-grams and words with a logistic
regression, balanced class weights (the card matcher's CardClassifier), trained at `rasa train` and kept in the
model. It only writes its verdict into the parse data:

    "answerability": {"unanswerable": 0.83, "asks_missing_detail": true}

actions/knowledge.py then puts "I don't have that information… Here is what I can tell you:" before the card, as it
does for the details listed in bot/content/facts.yml (`details_not_given`). The card still follows: a false alarm
costs a needless hedge, not the answer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.card_matcher import CardClassifier
from bot.nlu.stored import read_stored, write_stored

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ANSWERABILITY_KEY = "answerability"
CLASSIFIER_FILE = "answerability_classifier.joblib"
UNANSWERABLE, ANSWERABLE = "unanswerable", "answerable"


def questions_path(configured: str) -> Path:
    """The questions file; a relative path is the project's, wherever `rasa train` runs from."""
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_ROOT / path


def sorted_questions(*paths: Path) -> dict[str, list[str]]:
    """The writers' questions, by kind: {"unanswerable": [...], "answerable": [...]} (nothing from a file absent)."""
    questions: dict[str, list[str]] = {UNANSWERABLE: [], ANSWERABLE: []}
    for path in paths:
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
        for kind in (UNANSWERABLE, ANSWERABLE):
            questions[kind] += [str(q) for q in data.get(kind) or []]
    return questions


def configured_paths(config: dict[str, Any]) -> list[Path]:
    return [questions_path(str(configured)) for configured in config["questions_files"]]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class AnswerabilityClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # the writers' sorted questions (a relative path is the project's)
            "questions_files": ["data/answerability/questions.yml", "data/answerability/questions_second.yml"],
            # the intent whose examples are questions the article does not answer
            "unknown_intent": "ask_ijm_unknown",
            # intents whose examples are answerable in the thread of a conversation ("how old were they?")
            "answerable_intents": ["ask_followup"],
            # retrieval intents that are no fact card (the questions after the safety answer)
            "not_cards": ["safety_followup"],
            # scikit-learn's C, and the probability at which the question counts as asking a missing detail (chosen
            # on the tuning files: README, "Questions the article does not answer")
            "classifier_c": 10.0,
            "threshold": 0.7,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The questions files are read here, not given by Rasa's graph: a change to one must retrain this component."""
        paths = [path for path in configured_paths({**cls.get_default_config(), **config}) if path.is_file()]
        if not paths:
            return None
        digest = hashlib.sha256()
        for path in paths:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerabilityClassifier:
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> AnswerabilityClassifier:
        classifier = read_stored(model_storage, resource, CLASSIFIER_FILE)
        return cls({**cls.get_default_config(), **config}, model_storage, resource, classifier)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        classifier: CardClassifier | None = None,
    ) -> None:
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self.classifier = classifier

    def examples(self, training_data: TrainingData) -> dict[str, list[str]]:
        """Unanswerable: the writer's and the unknown intent's questions; answerable: the writer's, the fact cards'
        and the follow-ups'."""
        sorted_by_writer = sorted_questions(*configured_paths(self.config))
        unanswerable, answerable = list(sorted_by_writer[UNANSWERABLE]), list(sorted_by_writer[ANSWERABLE])
        not_cards = set(self.config["not_cards"])
        for message in training_data.intent_examples:
            text, intent = message.get(TEXT), message.get(INTENT)
            label = message.get(INTENT_RESPONSE_KEY)
            if not text:
                continue
            if intent == self.config["unknown_intent"]:
                unanswerable.append(text)
            elif (label and label.split("/", 1)[0] not in not_cards) or intent in self.config["answerable_intents"]:
                answerable.append(text)
        return {UNANSWERABLE: unanswerable, ANSWERABLE: answerable}

    def train(self, training_data: TrainingData) -> Resource:
        examples = self.examples(training_data)
        self.classifier = None
        if examples[UNANSWERABLE] and examples[ANSWERABLE]:
            self.classifier = CardClassifier(examples, float(self.config["classifier_c"]), class_weight="balanced")
        assert self.model_storage is not None and self.resource is not None
        write_stored(self.model_storage, self.resource, CLASSIFIER_FILE, self.classifier)
        return self.resource

    def probability(self, text: str) -> float:
        """How likely the question asks for something the article does not give."""
        return self.classifier.probabilities(text).get(UNANSWERABLE, 0.0) if self.classifier is not None else 0.0

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/") or self.classifier is None:  # a button's payload asks nothing
                continue
            probability = self.probability(text)
            message.set(
                ANSWERABILITY_KEY,
                {
                    "unanswerable": round(probability, 4),
                    "asks_missing_detail": probability >= float(self.config["threshold"]),
                },
                add_to_output=True,
            )
        return messages
