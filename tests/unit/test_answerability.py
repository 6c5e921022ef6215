"""The answerability classifier (bot/nlu/answerability.py), trained on the project's own data as `rasa train` does:
questions about details the article never gives are marked, the article's own facts are not, it is kept in the
model, and a change to its questions file retrains it."""

from __future__ import annotations

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.answerability import (
    ANSWERABILITY_KEY,
    AnswerabilityClassifier,
    configured_paths,
    questions_path,
    sorted_questions,
)
from tests.conftest import ROOT
from tests.unit import nlu_pipeline
from tests.unit.nlu_pipeline import trained_on_project_data


def pipeline_entry() -> dict:
    return {**AnswerabilityClassifier.get_default_config(), **nlu_pipeline.pipeline_entry("AnswerabilityClassifier")}


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> LocalModelStorage:
    return LocalModelStorage(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def trained(storage) -> AnswerabilityClassifier:
    return trained_on_project_data(AnswerabilityClassifier, pipeline_entry(), storage, "answerability")


def verdict(classifier: AnswerabilityClassifier, text: str) -> dict:
    message = Message(data={"text": text})
    classifier.process([message])
    return message.get(ANSWERABILITY_KEY)


# Written for this test, in none of the training files: details the article does not give...
MISSING = [
    "what is the name of gary haugen's wife",
    "who was the judge in the trial of the phnom penh brothel owners",
    "how much did the brick kiln rescue cost",
]
# ...and facts it does give, asked just as specifically.
GIVEN = [
    "what year did ijm begin",
    "how many girls were rescued in cambodia in 2003",
    "how old were the girls freed from the brothel in 2003",
]


@pytest.mark.parametrize("text", MISSING)
def test_a_question_about_a_detail_the_article_never_gives_is_marked(trained, text):
    assert verdict(trained, text)["asks_missing_detail"] is True


@pytest.mark.parametrize("text", GIVEN)
def test_a_question_the_article_answers_is_not_marked(trained, text):
    assert verdict(trained, text)["asks_missing_detail"] is False


def test_a_buttons_payload_gets_no_verdict(trained):
    assert verdict(trained, '/ask_founder{"card": "gary_haugen"}') is None


def test_it_is_kept_in_the_model_and_loaded_without_training_again(trained, storage):
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = AnswerabilityClassifier.load(pipeline_entry(), storage, Resource("answerability"), context)
    for text in MISSING + GIVEN:
        assert loaded.probability(text) == pytest.approx(trained.probability(text))


def test_the_questions_file_is_the_projects_wherever_training_runs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert questions_path("data/answerability/questions.yml") == ROOT / "data" / "answerability" / "questions.yml"
    assert AnswerabilityClassifier.fingerprint_addon({}) is not None


def test_the_questions_file_is_part_of_the_components_fingerprint(tmp_path):
    path = tmp_path / "questions.yml"
    path.write_text('unanswerable: ["his wife?"]\nanswerable: ["founder?"]\n', encoding="utf-8")
    first = AnswerabilityClassifier.fingerprint_addon({"questions_files": [str(path)]})
    assert sorted_questions(path) == {"unanswerable": ["his wife?"], "answerable": ["founder?"]}
    path.write_text('unanswerable: ["his kids?"]\nanswerable: ["founder?"]\n', encoding="utf-8")
    assert AnswerabilityClassifier.fingerprint_addon({"questions_files": [str(path)]}) != first
    # a second file counts too
    other = tmp_path / "second.yml"
    other.write_text('unanswerable: ["his dog?"]\n', encoding="utf-8")
    both = AnswerabilityClassifier.fingerprint_addon({"questions_files": [str(path), str(other)]})
    assert both != AnswerabilityClassifier.fingerprint_addon({"questions_files": [str(path)]})
    assert sorted_questions(path, other)["unanswerable"] == ["his kids?", "his dog?"]


def test_no_question_the_writer_found_unanswered_is_a_cards_training_question():
    """A card's question marked as not answered would teach the classifier both ways at once."""
    examples = load_data(str(ROOT / "data" / "nlu")).intent_examples
    cards = {m.get("text").casefold().strip() for m in examples if m.get("intent_response_key")}
    written = sorted_questions(*configured_paths(AnswerabilityClassifier.get_default_config()))
    # (a few less than written: the questions held-out writers wrote word for word are taken out by script)
    assert len(written["unanswerable"]) >= 500 and len(written["answerable"]) >= 240
    assert not {q.casefold().strip() for q in written["unanswerable"]} & cards


def test_no_held_out_question_is_a_training_question_of_the_answerability_classifier():
    """Writers who never saw tests/ can still write a held-out question word for word ("where?"): none is trained on."""
    written = sorted_questions(*configured_paths(AnswerabilityClassifier.get_default_config()))
    trained = {q.casefold().strip() for kind in written.values() for q in kind}
    for path in (ROOT / "tests" / "nlu").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        held_out = {str(entry["q"]).casefold().strip() for entry in data.get("questions") or []}
        held_out |= {str(turn).casefold().strip() for entry in data.get("followups") or [] for turn in entry["turns"]}
        shared = len(trained & held_out)  # a count only: the unseen files' questions are not to be read
        assert shared == 0, f"{shared} questions of {path.name} are trained on"
