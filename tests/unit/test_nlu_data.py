"""The training data and the held-out test file: sizes, coverage, and independence from each other."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from tests.conftest import ROOT

MIN_TRAINING_EXAMPLES = 15


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


@pytest.fixture(scope="module")
def training():
    return load_data(str(ROOT / "data" / "nlu"))


@pytest.fixture(scope="module")
def held_out():
    return load_data(str(ROOT / "tests" / "nlu" / "test_nlu.yml"))


def test_every_intent_has_enough_varied_training_examples(training, domain):
    counts = training.number_of_examples_per_intent
    assert set(domain["intents"]) <= set(counts)
    assert {i: n for i, n in counts.items() if n < MIN_TRAINING_EXAMPLES} == {}


def test_no_training_example_is_repeated(training):
    repeated = [t for t, n in Counter(normalise(m.get("text")) for m in training.intent_examples).items() if n > 1]
    assert repeated == []


def test_the_held_out_file_is_big_enough_and_covers_every_intent(held_out, domain):
    counts = held_out.number_of_examples_per_intent
    assert len(held_out.intent_examples) >= 150
    assert counts.get("out_of_scope", 0) >= 30
    assert set(domain["intents"]) - set(counts) == set()


@pytest.mark.parametrize("name", ["test_nlu.yml", "test_nlu_unseen.yml"])
def test_no_held_out_example_is_a_copy_of_a_training_example(training, name):
    held_out = load_data(str(ROOT / "tests" / "nlu" / name))
    seen = {normalise(m.get("text")) for m in training.intent_examples}
    assert [m.get("text") for m in held_out.intent_examples if normalise(m.get("text")) in seen] == []


def test_the_two_held_out_files_share_no_example(held_out):
    unseen = load_data(str(ROOT / "tests" / "nlu" / "test_nlu_unseen.yml"))
    first = {normalise(m.get("text")) for m in held_out.intent_examples}
    assert [m.get("text") for m in unseen.intent_examples if normalise(m.get("text")) in first] == []


def test_every_lookup_and_regex_entity_is_annotated_in_the_training_data(training):
    """RegexEntityExtractor uses only the lookup tables and regexes of entities annotated in the training data:
    an entity that is never annotated is never extracted (the fact cards' places and years were lost that way)."""
    named = {table["name"] for table in training.lookup_tables} | {regex["name"] for regex in training.regex_features}
    annotated = Counter(e["entity"] for m in training.training_examples for e in m.get("entities") or [])
    assert {"place", "year", "event"} <= named
    assert {name: annotated[name] for name in named if annotated[name] < 10} == {}
