"""The safety net in the NLU pipeline: disclosures always reach the safety intent, questions never do."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.safety_override import SafetyOverride
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def override() -> SafetyOverride:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    entry = next(c for c in config["pipeline"] if c["name"].endswith("SafetyOverride"))
    return SafetyOverride({**SafetyOverride.get_default_config(), **entry})


@pytest.mark.parametrize(
    "text",
    [
        "they took my passport and I can't leave",
        "my employer won't let me go home",
        "I'm trapped in an apartment please help",
        "my sister is being trafficked",
        "a man keeps asking my 11 year old son for photos",
        "they forced me into prostitution",
        "the boss says we owe him and makes us work every night",
    ],
)
def test_a_disclosure_gets_the_safety_intent_whatever_the_model_said(override, text):
    message = Message(data={"text": text})
    message.set("intent", {"name": "ask_more", "confidence": 0.97}, add_to_output=True)
    message.set("intent_ranking", [{"name": "ask_more", "confidence": 0.97}], add_to_output=True)

    override.process([message])

    assert message.get("intent") == {"name": "disclose_danger", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["disclose_danger", "ask_more"]


@pytest.mark.parametrize(
    "text",
    [
        "does IJM fight forced labour?",
        "what kinds of trafficking does IJM work on",
        "how many people were rescued from slavery",
        "tell me about the brick kiln rescue in India",
        "can I leave a donation in my will",
    ],
)
def test_a_question_about_ijms_work_keeps_its_own_intent(override, text):
    message = Message(data={"text": text})
    message.set("intent", {"name": "ask_violence_types", "confidence": 0.9}, add_to_output=True)
    override.process([message])
    assert message.get("intent")["name"] == "ask_violence_types"


def test_no_training_or_held_out_example_of_another_intent_trips_it(override):
    examples = [*load_data(str(ROOT / "data" / "nlu")).intent_examples,
                *load_data(str(ROOT / "tests" / "nlu" / "test_nlu.yml")).intent_examples]  # fmt: skip
    tripped = [(m.get("intent"), m.get("text")) for m in examples
               if m.get("intent") != "disclose_danger" and override.matches(m.get("text"))]  # fmt: skip
    assert tripped == []
