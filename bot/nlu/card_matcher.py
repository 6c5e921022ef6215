"""Which fact card answers the question: a learned card classifier, checked by a second opinion.

Every answerable fact of the article is a card (bot/content/facts.yml), trained as a retrieval intent
`<topic intent>/<card>` (data/nlu/knowledge/, Sara's layout); DIET learns the topic intents. This component learns
the cards themselves when the model is trained: a multinomial logistic regression over TF-IDF features of the cards'
questions (character n-grams within words, robust to "Haugun", "Cambodja", and word unigrams and bigrams). It also
scores the message against every card's questions by their best cosine similarity (a nearest-neighbour second
opinion), combines the two with the topic DIET chose and the years, numbers and events the message names, and
writes the verdict into the parse data:

    "fact_card": {"card": "cambodia_girls", "label": "ask_event/cambodia_girls", "score": 0.71,
                  "unsure": false, "ranking": [{"label": ..., "score": ..., "selector": ..., "lexical": ...}]}

`selector` is the learned opinion: the classifier's probability, or a ResponseSelector's confidence when one is in
the pipeline (none is since 2026-12-06: Rasa's ResponseSelector was a second TensorFlow model, about 450 MB of the
Rasa server's memory and a tenth of its throughput, and cross-validated at 0.70 per card against this classifier's
0.84; see the README).

`unsure` means the action should ask ("Did you mean …?") instead of answering; `close_call`, that it should answer
and offer the runner-up of another topic as well. A message the DIET classifier
could not place (`nlu_fallback`) is given a card's topic intent when that card's words match closely ("Haugun?" is
a question about the founder), when it scores high all told, or when one of DIET's first two guesses is the topic
of one of the first two cards. A year, a number or an event the message names weighs in the score.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.question_guard import AFTER_PREAMBLE_KEY, QUESTION_PART_KEY

FACT_CARD_KEY = "fact_card"
RESPONSE_SELECTOR_KEY = "response_selector"
INTENT_RANKING_KEY = "intent_ranking"
AGREE_RANKS = 2  # one of DIET's first two guesses agrees with the cards when it is the topic of one of the first two
FALLBACK_INTENT = "nlu_fallback"
EXAMPLES_FILE = "card_examples.json"
CLASSIFIER_FILE = "card_classifier.pkl"
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
NUMBER = re.compile(r"(?<![\d,.])\d[\d,]*(?:\.\d+)?(?![\d,])")
TOPIC_WORD = re.compile(r"[a-z][a-z0-9%']{3,}")
TOPIC_WORD_MIN = 5
TOPIC_WORD_SHARE = 0.75
TITLE_WORD_SHARE = 0.3


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped: what a typo-tolerant comparison needs."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9%']+", " ", text.casefold()).strip()


@dataclass(frozen=True)
class Scored:
    label: str
    score: float
    selector: float
    lexical: float

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": round(self.score, 4), "selector": round(self.selector, 4),
                "lexical": round(self.lexical, 4)}  # fmt: skip


class LexicalIndex:
    """TF-IDF (character n-grams within words) over each label's example questions; a label scores the best
    cosine similarity of any of its examples."""

    def __init__(self, examples: dict[str, list[str]]) -> None:
        self.labels = sorted(examples)
        texts, owners = [], []
        for index, label in enumerate(self.labels):
            for text in examples[label]:
                texts.append(normalise(text))
                owners.append(index)
        self.owners = np.array(owners, dtype=int)
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        # n-grams × examples: a message's few n-grams pick their rows (see _block_logits)
        self.by_ngram = self.vectorizer.fit_transform(texts).T.tocsr() if texts else None
        if self.by_ngram is not None:
            self.analysis = (self.vectorizer.build_analyzer(), self.vectorizer.vocabulary_, self.vectorizer.idf_)

    def scores(self, text: str) -> dict[str, float]:
        if self.by_ngram is None:
            return {}
        similarities = _block_logits(self.analysis, self.by_ngram, normalise(text))
        if isinstance(similarities, float):  # no n-gram of the message is known
            similarities = np.zeros(len(self.owners))
        best = np.zeros(len(self.labels))
        np.maximum.at(best, self.owners, similarities)
        return {label: float(best[i]) for i, label in enumerate(self.labels)}


class CardClassifier:
    """Which card, learned: logistic regression over TF-IDF character n-grams (within words) and word unigrams and
    bigrams of each card's questions. Trained with the model; kept in it (pickled by sklearn's own rules)."""

    def __init__(self, examples: dict[str, list[str]], regularisation: float, class_weight: str | None = None) -> None:
        """`class_weight="balanced"` weighs a small class as much as a large one (the safety classifier's few
        disclosures against every other example)."""
        texts = [normalise(text) for label in sorted(examples) for text in examples[label]]
        labels = [label for label in sorted(examples) for _ in examples[label]]
        self.characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                     token_pattern=r"[a-z0-9%']+")  # fmt: skip
        self.model: LogisticRegression | None = None
        if len(set(labels)) >= 2:
            self.characters.fit(texts)
            self.words.fit(texts)
            self.model = LogisticRegression(C=regularisation, max_iter=2000, class_weight=class_weight).fit(
                self.features(texts), labels
            )
            _single_precision(self.model)

    def probabilities(self, text: str) -> dict[str, float]:
        """The model's predict_proba, computed directly from its coefficients and the message's n-grams: a tenth of
        the time of sklearn's `transform` and `predict_proba` on one message (their input checks and sparse
        matrices cost far more than the arithmetic); the same figures (a test compares them)."""
        if self.model is None:
            return {}
        normalised = normalise(text)
        characters, words, intercept = self._weights
        character_analysis, word_analysis = self._analyses
        logits = _block_logits(character_analysis, characters, normalised) + _block_logits(
            word_analysis, words, normalised
        )
        logits = logits + intercept
        if len(self.model.classes_) == 2:  # a binary model has one row of coefficients: a sigmoid, not a softmax
            second = float(1.0 / (1.0 + np.exp(-logits[0])))
            return {self.model.classes_[0]: 1.0 - second, self.model.classes_[1]: second}
        exponentials = np.exp(logits - logits.max())
        shares = exponentials / exponentials.sum()
        return {label: float(share) for label, share in zip(self.model.classes_, shares, strict=True)}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without what is derived from the rest (the cached properties, rebuilt on first use)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_weights", "_analyses")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Loaded with single-precision coefficients (a model trained before they were kept so has doubles)."""
        self.__dict__.update(state)
        if self.model is not None:
            _single_precision(self.model)

    @functools.cached_property
    def _analyses(self) -> tuple[tuple[Any, dict[str, int], np.ndarray], ...]:
        """Each block's analyzer (building one takes longer than using it), vocabulary and idf."""
        return tuple((v.build_analyzer(), v.vocabulary_, v.idf_) for v in (self.characters, self.words))

    def features(self, normalised: list[str]) -> Any:
        """The character block beside the word block, as the model was trained on them."""
        return hstack([self.characters.transform(normalised), self.words.transform(normalised)]).tocsr()

    @functools.cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The coefficients of the character block and of the word block, each (features × cards), and intercepts."""
        assert self.model is not None
        split = len(self.characters.vocabulary_)
        coefficients = self.model.coef_
        # views of the model's own array, not copies: a message touches a few hundred rows, and a copy would hold
        # the card classifier's coefficients twice (about 10 MB of the Rasa server's 800)
        return coefficients[:, :split].T, coefficients[:, split:].T, self.model.intercept_


def _single_precision(model: LogisticRegression) -> None:
    """Coefficients as float32: the card classifier's are 54 cards × 24,000 n-grams, 10 MB of the Rasa server's
    800 in doubles, 5 MB in singles. On the two tuning files' 491 questions no probability moved by more than 3e-8
    and no first card changed (2026-12-07)."""
    model.coef_ = np.ascontiguousarray(model.coef_, dtype=np.float32)


def _block_logits(analysis: tuple[Any, dict[str, int], np.ndarray], weights: np.ndarray, normalised: str) -> Any:
    """One feature block's share of the logits: the text's TF-IDF vector (sublinear tf × idf, L2-normalised, as the
    vectorizer makes it) times the block's coefficients (features × classes), computed over its n-grams only."""
    analyzer, vocabulary, idf = analysis
    counts: dict[int, int] = {}
    for gram in analyzer(normalised):
        index = vocabulary.get(gram)
        if index is not None:
            counts[index] = counts.get(index, 0) + 1
    if not counts:
        return 0.0
    indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
    values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[indices]
    values /= np.sqrt(values @ values)
    return np.asarray(values @ weights[indices]).ravel()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class CardMatcher(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # weight of the learned opinion (the card classifier's probability); the lexical similarity gets the rest
            "selector_weight": 0.6,
            # inverse regularisation strength of the card classifier (scikit-learn's C): cross-validated, 20 fits
            # the cards' dozen-odd questions each without forgetting the typos
            "classifier_c": 20.0,
            # a card whose topic intent is the one DIET chose gets this much more
            "intent_bonus": 0.1,
            # below this combined score, ask instead of answering
            "unsure_below": 0.3,
            # this close to a card of another topic: answer, and offer that card too
            "unsure_margin": 0.04,
            # a not-understood message whose words match a card this closely is a question about that card
            "rescue_lexical": 0.6,
            # ...or whose first card scores this much all told (a number or year it names counts)
            "rescue_score": 0.6,
            # ...and so is one where one of DIET's first two guesses (at least `agree_intent_min`) is the topic
            # intent of one of the first two cards (scoring at least `agree_card_min`): two opinions agree,
            # neither sure alone
            "agree_intent_min": 0.25,
            "agree_card_min": 0.2,
            # retrieval intents never given this way (they only make sense right after their own answer)
            "no_rescue_intents": ["safety_followup"],
            # a card whose training questions name the year the message names gets this much more, and one
            # whose questions name only other years this much less: "what happened in 2015?" has little else
            # to go on, and a year is exact
            "year_bonus": 0.3,
            "year_conflict": 0.2,
            # a card whose training questions name the event the message names ("the Gates Foundation"): a
            # little more (no less for the others: an event is also named by questions about its neighbours)
            "event_bonus": 0.15,
            # a card whose training questions name a number the message names ("the 73% figure", "the 7,000"):
            # this much more. Numbers in the article are few and each belongs to one fact.
            "number_bonus": 0.3,
            "ranking_length": 10,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CardMatcher:
        return cls({**cls.get_default_config(), **config}, model_storage, resource, {})

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CardMatcher:
        examples: dict[str, list[str]] = {}
        classifier = None
        try:
            with model_storage.read_from(resource) as directory:
                examples = json.loads((directory / EXAMPLES_FILE).read_text(encoding="utf-8"))
                if (directory / CLASSIFIER_FILE).exists():
                    classifier = joblib.load(directory / CLASSIFIER_FILE)
        except (ValueError, FileNotFoundError):
            pass
        return cls({**cls.get_default_config(), **config}, model_storage, resource, examples, classifier)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        examples: dict[str, list[str]],
        classifier: CardClassifier | None = None,
    ) -> None:
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self.index_examples(examples, classifier)

    def index_examples(self, examples: dict[str, list[str]], classifier: CardClassifier | None = None) -> None:
        """What each message is compared with: the card classifier (trained here unless given), the TF-IDF index,
        and the years, numbers and words of each card's training questions."""
        self.examples = examples
        self.classifier = classifier or CardClassifier(examples, float(self.config["classifier_c"]))
        self.index = LexicalIndex(examples)
        self.years = _years_by_label(examples)
        self.numbers = _numbers_by_label(examples)
        self.lowered = {label: tuple(normalise(t) for t in texts) for label, texts in examples.items()}
        self.topic_words = _topic_words(examples)

    def train(self, training_data: TrainingData) -> Resource:
        examples: dict[str, list[str]] = defaultdict(list)
        for message in training_data.intent_examples:
            label = message.get(INTENT_RESPONSE_KEY)
            if label and message.get(TEXT):
                examples[label].append(message.get(TEXT))
        self.index_examples(dict(examples))
        with self.model_storage.write_to(self.resource) as directory:
            (directory / EXAMPLES_FILE).write_text(json.dumps(self.examples), encoding="utf-8")
            joblib.dump(self.classifier, directory / CLASSIFIER_FILE)
        return self.resource

    def rank(
        self,
        text: str,
        intent: str | None,
        selector: dict[str, float],
        years: frozenset[str] = frozenset(),
        events: frozenset[str] = frozenset(),
        numbers: frozenset[str] | None = None,
    ) -> list[Scored]:
        lexical = self.index.scores(text)
        numbers = numbers_in(text) if numbers is None else numbers
        weight, bonus = float(self.config["selector_weight"]), float(self.config["intent_bonus"])

        # only a year some card's questions name counts: one no card knows ("in 2012") changes nothing
        years = frozenset(y for y in years if any(y in named for named in self.years.values()))

        def for_years(label: str) -> float:
            named = self.years.get(label, frozenset())
            if not years or not named:
                return 0.0
            return float(self.config["year_bonus"]) if years & named else -float(self.config["year_conflict"])

        scored = [
            Scored(
                label=label,
                score=weight * selector.get(label, 0.0)
                + (1 - weight) * lexical.get(label, 0.0)
                + (bonus if label.split("/", 1)[0] == intent else 0.0)
                + for_years(label)
                + (float(self.config["event_bonus"]) if events and self._names_event(label, events) else 0.0)
                + (float(self.config["number_bonus"]) if numbers & self.numbers.get(label, frozenset()) else 0.0),
                selector=selector.get(label, 0.0),
                lexical=lexical.get(label, 0.0),
            )
            for label in set(lexical) | set(selector)
        ]
        return sorted(scored, key=lambda s: s.score, reverse=True)

    def rank_readings(
        self,
        readings: list[tuple[str, dict[str, float]]],
        intent: str | None,
        years: frozenset[str],
        events: frozenset[str],
        numbers: frozenset[str],
    ) -> list[Scored]:
        """`rank` of each reading of the message (its text and the learned opinion of it), merged by `best_of`."""
        return best_of(*(self.rank(text, intent, learned, years, events, numbers) for text, learned in readings))

    def _names_event(self, label: str, events: frozenset[str]) -> bool:
        """Whether the card's training questions name one of these events (as the message wrote them)."""
        texts = self.lowered.get(label, ())
        return any(event in text for event in events for text in texts)

    def words_naming_topics(self, text: str) -> dict[str, str]:
        """The message's words that name one topic ("founder", "kiln", "pandemic"): a short follow-up without
        any is read in the thread of the conversation (actions/knowledge.py), one with a word of another topic
        is not."""
        return {
            word: self.topic_words[word] for word in TOPIC_WORD.findall(normalise(text)) if word in self.topic_words
        }

    def is_unsure(self, ranking: list[Scored]) -> bool:
        """Too weak to answer: ask which card the visitor means."""
        return not ranking or ranking[0].score < float(self.config["unsure_below"])

    def is_close_call(self, ranking: list[Scored]) -> bool:
        """A card of another topic scores nearly as well: answer, and offer it too."""
        best = ranking[0]
        rival = next((s for s in ranking[1:] if s.label.split("/", 1)[0] != best.label.split("/", 1)[0]), None)
        return rival is not None and best.score - rival.score < float(self.config["unsure_margin"])

    def rescue(self, message: Message, ranking: list[Scored]) -> dict[str, Any] | None:
        """The intent a not-understood message gets from its cards, if the evidence is good enough: the first
        card's words match closely, or one of DIET's first two guesses is the topic of one of the first two cards."""
        best = ranking[0]
        topic_intent = best.label.split("/", 1)[0]
        excluded = set(self.config["no_rescue_intents"])
        if topic_intent not in excluded and best.lexical >= float(self.config["rescue_lexical"]):
            return {INTENT_NAME_KEY: topic_intent, PREDICTED_CONFIDENCE_KEY: best.lexical}
        if topic_intent not in excluded and best.score >= float(self.config["rescue_score"]):
            return {INTENT_NAME_KEY: topic_intent, PREDICTED_CONFIDENCE_KEY: min(best.score, 1.0)}
        guesses = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT]
        # Either of DIET's first two guesses (an ambiguous message falls back too: "where did IJM start out?" is
        # out_of_scope 0.45 / ask_founding 0.43) agreeing with either of the first two cards.
        for guess in guesses[:AGREE_RANKS]:
            confidence = float(guess.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            name = guess.get(INTENT_NAME_KEY)
            if name in excluded or confidence < float(self.config["agree_intent_min"]):
                continue
            agreeing = [s for s in ranking[:AGREE_RANKS] if s.label.split("/", 1)[0] == name]
            if agreeing and agreeing[0].score >= float(self.config["agree_card_min"]):
                return {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
        return None

    def learned_opinion(self, message: Message, text: str) -> dict[str, float]:
        """A ResponseSelector's ranking when the pipeline has one, else the card classifier's."""
        return _selector_confidences(message) or self.classifier.probabilities(text)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            entities = message.get(ENTITIES) or []
            years = frozenset(str(e.get("value")) for e in entities if e.get("entity") == "year")
            events = frozenset(
                normalise(text[e["start"] : e["end"]])
                for e in entities
                if e.get("entity") == "event" and isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
            )
            # the numbers of the whole message count ("no the other one, the 79% one. where was that?")
            numbers = numbers_in(text)
            whole = text if message.get(AFTER_PREAMBLE_KEY) else None
            text = message.get(QUESTION_PART_KEY) or text  # "who led it?" of "thank you! who led it?"
            # after a reaction or a story, the whole message is a second reading: each card at its better score
            readings = [(t, self.learned_opinion(message, t)) for t in ([text] if whole is None else [text, whole])]
            ranking = self.rank_readings(readings, intent, years, events, numbers)
            if not ranking:
                continue
            best = ranking[0]
            rescued = self.rescue(message, ranking) if intent == FALLBACK_INTENT else None
            if rescued is not None:
                message.set(INTENT, rescued, add_to_output=True)
                others = [
                    r
                    for r in message.get(INTENT_RANKING_KEY) or []
                    if r.get(INTENT_NAME_KEY) != rescued[INTENT_NAME_KEY]
                ]
                message.set(INTENT_RANKING_KEY, [rescued, *others], add_to_output=True)
                ranking = self.rank_readings(readings, rescued[INTENT_NAME_KEY], years, events, numbers)
                best = ranking[0]
            message.set(
                FACT_CARD_KEY,
                {
                    "card": best.label.split("/", 1)[-1],
                    "label": best.label,
                    "score": round(best.score, 4),
                    "unsure": self.is_unsure(ranking),
                    "close_call": self.is_close_call(ranking),
                    "ranking": [s.as_dict() for s in ranking[: int(self.config["ranking_length"])]],
                    "topic_words": self.words_naming_topics(text),
                },
                add_to_output=True,
            )
        return messages


def best_of(*rankings: list[Scored]) -> list[Scored]:
    """One ranking of several readings of a message: each card at its best score."""
    best: dict[str, Scored] = {}
    for ranking in rankings:
        for scored in ranking:
            if scored.label not in best or scored.score > best[scored.label].score:
                best[scored.label] = scored
    return sorted(best.values(), key=lambda s: s.score, reverse=True)


def numbers_in(text: str) -> frozenset[str]:
    """The numbers a text names other than years, written without thousands separators ("7,000" -> "7000")."""
    found = (n.replace(",", "") for n in NUMBER.findall(text))
    return frozenset(n for n in found if not YEAR.fullmatch(n))


def _topic_words(examples: dict[str, list[str]]) -> dict[str, str]:
    """Words that name a topic: in at least TOPIC_WORD_MIN of its cards' questions, and at least TOPIC_WORD_SHARE of
    all the questions that have them ("kiln" is the India topic's; "people" and "when" are everyone's)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from bot.content.facts import facts

    content = facts()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for label, texts in examples.items():
        card = content.card_for_label(label)
        if card is None:
            continue
        for text in texts:
            for word in set(TOPIC_WORD.findall(normalise(text))):
                counts[word][card.topic] += 1
    named = {}
    for word, by_topic in counts.items():
        topic, count = max(by_topic.items(), key=lambda item: item[1])
        if (
            word not in ENGLISH_STOP_WORDS
            and count >= TOPIC_WORD_MIN
            and count >= TOPIC_WORD_SHARE * sum(by_topic.values())
        ):
            named[word] = topic
    # ...and the words of a topic's title that its questions use more than any other's ("mission", "founder")
    for topic in content.topics.values():
        for word in TOPIC_WORD.findall(normalise(topic.title)):
            by_topic = counts.get(word, {})
            total = sum(by_topic.values())
            if word not in ENGLISH_STOP_WORDS and total and by_topic.get(topic.key, 0) >= TITLE_WORD_SHARE * total:
                named.setdefault(word, topic.key)
    return named


def _numbers_by_label(examples: dict[str, list[str]]) -> dict[str, frozenset[str]]:
    return {label: frozenset().union(*(numbers_in(t) for t in texts)) for label, texts in examples.items()}


def _years_by_label(examples: dict[str, list[str]]) -> dict[str, frozenset[str]]:
    """The years each card is about: those its answer and passages name (the article says which year belongs to
    which fact; a wrong-premise training question such as "Gary founded IJM in 2000, right?" must not make 2000 a
    year of the founding), or, for a label that is no fact card, those its training questions name."""
    from bot.content.facts import facts

    content = facts()
    years = {}
    for label, texts in examples.items():
        card = content.card_for_label(label)
        said = [card.answer, *card.passages] if card is not None else texts
        years[label] = frozenset(y for text in said for y in YEAR.findall(text)) | frozenset(
            str(y) for y in (card.years if card is not None else ())
        )
    return years


def _selector_confidences(message: Message) -> dict[str, float]:
    """The ResponseSelector's confidence in each card, from every selector in the pipeline."""
    confidences: dict[str, float] = {}
    for name, selector in (message.get(RESPONSE_SELECTOR_KEY) or {}).items():
        if name == "all_retrieval_intents" or not isinstance(selector, dict):
            continue
        for entry in selector.get("ranking") or []:
            label = entry.get(INTENT_RESPONSE_KEY)
            if label:
                confidences[label] = max(confidences.get(label, 0.0), float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
    return confidences
