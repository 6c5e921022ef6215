"""The safety gate at the end of the NLU pipeline: the model's disclosure wins over plea-like readings, and the
phrase net catches what the model misses only where a person is in danger, never on history questions."""

from __future__ import annotations

import re

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.nlu.safety_override import SafetyOverride
from tests.conftest import ROOT
from tests.unit.nlu_messages import parsed


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
        "on m'oblige à travailler sans salaire",
    ],
)
def test_the_net_catches_a_disclosure_whatever_the_model_said(override, text):
    message = parsed(text, [("ask_more", 0.97)])
    override.process([message])
    assert message.get("intent") == {"name": "disclose_danger", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["disclose_danger", "ask_more"]
    assert message.get("safety")["tier"] == "net"


@pytest.mark.parametrize(
    "text",
    [
        "does IJM fight forced labour?",
        "what kinds of trafficking does IJM work on",
        "how many people were rescued from slavery",
        "were the girls kept in a brothel?",
        "were the migrant workers held in captivity at the kiln?",
        "I read that traffickers take workers' passports, is that common?",
        "my church wants to help women who were trafficked",
        "can I leave a donation in my will",
    ],
)
def test_a_question_about_the_topic_keeps_its_own_intent(override, text):
    message = parsed(text, [("ask_violence_types", 0.9), ("disclose_danger", 0.05)])
    override.process([message])
    assert message.get("intent")["name"] == "ask_violence_types"
    assert message.get("safety") is None


@pytest.mark.parametrize("plea", ["stop", "greet", "deny", "thank", "nlu_fallback"])
def test_the_models_disclosure_wins_over_a_plea_like_reading(override, plea):
    message = parsed("please make it stop", [(plea, 0.6), ("disclose_danger", 0.3)])
    override.process([message])
    assert message.get("intent")["name"] == "disclose_danger"
    assert message.get("safety") == {
        "tier": "model", "model": True, "net": False, "model_confidence": 0.3, "classifier_probability": 0.0
    }  # fmt: skip


def test_a_faint_disclosure_reading_under_a_plea_or_any_reading_under_a_question_is_not_enough(override):
    faint = parsed("stop", [("stop", 0.9), ("disclose_danger", 0.05)])
    question = parsed("tell me about the rescue", [("ask_event", 0.6), ("disclose_danger", 0.35)])
    override.process([faint, question])
    assert faint.get("intent")["name"] == "stop"
    assert question.get("intent")["name"] == "ask_event"


def test_both_tiers_are_recorded_when_both_fire(override):
    message = parsed("my boss took my passport", [("disclose_danger", 0.8)])
    override.process([message])
    assert message.get("safety")["tier"] == "model+net"


def test_no_sentence_of_the_article_trips_the_net(override, source_article):
    sentences = [s for line in source_article.splitlines() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]
    assert len(sentences) > 50
    assert [s for s in sentences if override.net_matches(s)] == []


def test_no_training_example_of_another_intent_trips_the_net(override):
    examples = [*load_data(str(ROOT / "data" / "nlu")).intent_examples,
                *load_data(str(ROOT / "tests" / "nlu" / "test_nlu.yml")).intent_examples]  # fmt: skip
    ours = ("disclose_danger", "safety_followup")
    tripped = [(m.get("intent"), m.get("text")) for m in examples
               if m.get("intent") not in ours and override.net_matches(m.get("text"))]  # fmt: skip
    assert tripped == []


def test_a_question_about_ijm_needs_a_sure_model_or_the_net(override):
    unsure = parsed(
        "is IJM's work sustainable after they leave a country?", [("disclose_danger", 0.55), ("ask_mission", 0.3)]
    )
    sure = parsed("IJM I need help now", [("disclose_danger", 0.93)])
    netted = parsed("can IJM help me, my boss took my passport", [("disclose_danger", 0.4)])
    override.process([unsure, sure, netted])
    assert unsure.get("safety")["tier"] is None and unsure.get("safety")["overruled"]
    assert unsure.get("intent") == {"name": "ask_mission", "confidence": 0.3}
    assert [r["name"] for r in unsure.get("intent_ranking")] == ["ask_mission", "disclose_danger"]
    assert sure.get("safety")["tier"] == "model"
    assert netted.get("safety")["tier"] == "model+net"


def test_a_general_question_the_model_half_placed_is_not_a_disclosure_unless_it_is_about_the_asker(override):
    general = parsed("Why do people get trafficked?", [("nlu_fallback", 0.3), ("disclose_danger", 0.22)])
    personal = parsed("why is this happening to me?", [("nlu_fallback", 0.3), ("disclose_danger", 0.22)])
    plea = parsed("please make it stop", [("nlu_fallback", 0.3), ("disclose_danger", 0.22)])
    override.process([general, personal, plea])
    assert general.get("intent")["name"] == "nlu_fallback"
    assert personal.get("intent")["name"] == "disclose_danger"
    assert plea.get("intent")["name"] == "disclose_danger"
