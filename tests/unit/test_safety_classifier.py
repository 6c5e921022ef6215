"""The disclosure classifier of the safety gate, trained on the project's own training data as `rasa train` does:
it catches disclosures DIET and the phrase net both miss, leaves history and general questions alone, and is kept
in the model (saved at training, the same after loading)."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

from bot.nlu.safety_override import SafetyOverride
from tests.unit import nlu_pipeline
from tests.unit.nlu_messages import parsed
from tests.unit.nlu_pipeline import trained_on_project_data


def pipeline_entry() -> dict:
    return nlu_pipeline.pipeline_entry("SafetyOverride")


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> LocalModelStorage:
    return LocalModelStorage(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def trained(storage) -> SafetyOverride:
    return trained_on_project_data(SafetyOverride, pipeline_entry(), storage, "safety_override")


# Disclosures worded so that the phrase net does not fire: only a model can catch them.
UNNETTED = [
    "I work on a farm and the owner locks us in the bunkhouse at night.",
    "there is a man who sells girls from my village and my cousin went with him last week",
    "my uncle brought me to this city for a job but i have to sleep with his friends",
]


@pytest.mark.parametrize("text", UNNETTED)
def test_a_disclosure_diet_misread_and_the_net_missed_is_caught_by_the_classifier(trained, text):
    assert not trained.net_matches(text)
    message = parsed(text, [("ask_violence_types", 0.7), ("disclose_danger", 0.1)])
    trained.process([message])
    assert message.get("intent")["name"] == "disclose_danger"
    safety = message.get("safety")
    assert safety["tier"] == "model" and safety["classifier_probability"] >= pipeline_entry()["classifier_threshold"]


@pytest.mark.parametrize(
    "text",
    [
        "were the girls kept in a brothel?",
        "how many people did IJM rescue from slavery?",
        "what happened at the brick kiln?",
        "Why do people get trafficked?",
        "I'd like to donate to help end trafficking",
        "my church wants to run a fundraiser for IJM",
    ],
)
def test_history_general_and_supporter_questions_are_left_alone(trained, text):
    message = parsed(text, [("ask_violence_types", 0.7), ("disclose_danger", 0.1)])
    trained.process([message])
    assert message.get("intent")["name"] == "ask_violence_types"
    assert message.get("safety") is None


def test_the_classifier_is_kept_in_the_model(trained, storage):
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = SafetyOverride.load(pipeline_entry(), storage, Resource("safety_override"), context)
    assert loaded.classifier is not None
    for text in UNNETTED:
        assert loaded.classifier.probability(text) == pytest.approx(trained.classifier.probability(text))


def test_without_the_classifier_only_diet_and_the_net_decide():
    untrained = SafetyOverride(pipeline_entry())
    message = parsed(UNNETTED[0], [("ask_violence_types", 0.7), ("disclose_danger", 0.1)])
    untrained.process([message])
    assert message.get("intent")["name"] == "ask_violence_types"


class SureClassifier:
    """A classifier that is sure of every message: what the gate does with its verdict, whatever it learned."""

    def probability(self, text: str) -> float:
        return 0.97


def test_a_sure_classifier_still_leaves_general_and_ijm_questions_to_diet_or_the_net():
    gate = SafetyOverride(pipeline_entry(), classifier=SureClassifier())  # type: ignore[arg-type]
    general = parsed("why do people get trafficked?", [("out_of_scope", 0.8)])
    about_ijm = parsed("does IJM still work in Cambodia?", [("ask_cambodia", 0.9)])
    personal = parsed("why is this happening to me?", [("out_of_scope", 0.8)])
    gate.process([general, about_ijm, personal])
    assert general.get("intent")["name"] == "out_of_scope"
    assert about_ijm.get("intent")["name"] == "ask_cambodia"
    assert personal.get("intent") == {"name": "disclose_danger", "confidence": 0.97}
    assert personal.get("safety")["classifier_probability"] == 0.97


class DoubtingClassifier:
    """A classifier that gives every message the same probability of being a disclosure."""

    def __init__(self, probability: float) -> None:
        self.fixed = probability

    def probability(self, text: str) -> float:
        return self.fixed


@pytest.mark.parametrize(("probability", "disclosure"), [(0.05, False), (0.3, True)])
def test_diets_disclosure_needs_the_classifier_not_to_be_all_but_sure_against_it(probability, disclosure):
    gate = SafetyOverride(pipeline_entry(), classifier=DoubtingClassifier(probability))  # type: ignore[arg-type]
    message = parsed("what did the workers at the kiln go through", [("disclose_danger", 0.9), ("ask_india", 0.05)])
    gate.process([message])
    assert message.get("intent")["name"] == ("disclose_danger" if disclosure else "ask_india")


def test_the_net_needs_no_model_at_all():
    gate = SafetyOverride(pipeline_entry(), classifier=DoubtingClassifier(0.0))  # type: ignore[arg-type]
    message = parsed("my boss took my passport and I can't leave", [("disclose_danger", 0.9)])
    gate.process([message])
    assert message.get("safety")["tier"] == "net"


@pytest.mark.parametrize(("probability", "disclosure"), [(0.4, False), (0.6, True)])
def test_a_plea_like_reading_needs_the_classifier_at_its_threshold(probability, disclosure):
    """DIET's disclosure only second, under a not-understood reading: weak evidence, which the classifier must back."""
    gate = SafetyOverride(pipeline_entry(), classifier=DoubtingClassifier(probability))  # type: ignore[arg-type]
    message = parsed(
        "My news feed says human trafficking spikes at big sporting events, is that real?",
        [("nlu_fallback", 0.45), ("disclose_danger", 0.38), ("out_of_scope", 0.15)],
    )
    gate.process([message])
    assert (message.get("intent")["name"] == "disclose_danger") is disclosure


@pytest.mark.parametrize(("confidence", "disclosure"), [(0.46, False), (0.9, True)])
def test_a_general_question_needs_diet_to_be_sure(confidence, disclosure):
    gate = SafetyOverride(pipeline_entry(), classifier=DoubtingClassifier(0.27))  # type: ignore[arg-type]
    message = parsed("Why do people get trafficked?", [("disclose_danger", confidence), ("ask_violence_types", 0.3)])
    gate.process([message])
    assert (message.get("intent")["name"] == "disclose_danger") is disclosure


def test_an_email_address_is_read_as_nothing():
    """ "danny.rivera@proton.me" at the sign-up's e-mail question was a disclosure to the classifier (0.73): the gate
    reads the message without its addresses; a disclosure that gives an address is still one."""
    gate = SafetyOverride(pipeline_entry(), classifier=SureClassifier())  # type: ignore[arg-type]
    address = parsed("danny.rivera@proton.me", [("nlu_fallback", 0.45), ("disclose_danger", 0.3)])
    diet_said_so = parsed("help.me@proton.me", [("disclose_danger", 0.7), ("nlu_fallback", 0.2)])
    with_words = parsed("they took my passport, write to me at ana@proton.me", [("nlu_fallback", 0.45)])
    gate.process([address, diet_said_so, with_words])
    assert address.get("intent")["name"] == "nlu_fallback" and address.get("safety") is None
    assert diet_said_so.get("intent")["name"] == "nlu_fallback" and diet_said_so.get("safety")["overruled"]
    assert with_words.get("intent")["name"] == "disclose_danger"


@pytest.mark.parametrize(
    ("probability", "diet", "disclosure"),
    [(0.6, 0.0, False), (0.75, 0.0, True), (0.6, 0.1, True)],
)
def test_the_classifier_alone_with_diet_silent_needs_to_be_surer(probability, diet, disclosure):
    """ "leave a msg" (0.60) and "hmm stop, i need to ask my boss first" (0.53) were disclosures to the classifier
    alone, DIET giving them 0.02 and 0: with DIET that silent the classifier counts only from `classifier_alone_min`."""
    gate = SafetyOverride(pipeline_entry(), classifier=DoubtingClassifier(probability))  # type: ignore[arg-type]
    ranking = [("talk_to_person", 0.8), ("stop", 0.1)] + ([("disclose_danger", diet)] if diet else [])
    message = parsed("leave a msg", ranking)
    gate.process([message])
    assert (message.get("intent")["name"] == "disclose_danger") is disclosure
