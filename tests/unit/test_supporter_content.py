"""The supporter journeys' content files: every question exists, the kinds match the NLU data, errors are clear."""

from __future__ import annotations

import re

import pytest
import yaml

from actions.forms import ALL_FORM_SLOTS
from bot.content import ContentError
from bot.content.links import links
from bot.content.supporters import consent_sentence, enquiry_messages, fundraising_content, prompt_for
from bot.supporters.replies import contact_replies, fundraising_replies
from tests.conftest import ROOT


@pytest.mark.parametrize("slot", ALL_FORM_SLOTS)
def test_every_form_slot_has_a_question(slot):
    assert prompt_for(slot).text.strip()


def test_the_consent_sentence_names_the_sender_the_purpose_and_the_way_out():
    sentence = consent_sentence()
    assert "International Justice Mission Canada" in sentence
    assert "e-mail" in sentence and "unsubscribe anytime" in sentence
    assert sentence in prompt_for("newsletter_consent").text


def test_the_fundraiser_kinds_are_the_values_the_model_extracts():
    data = yaml.safe_load((ROOT / "data" / "nlu" / "entities.yml").read_text(encoding="utf-8"))["nlu"]
    lookup = next(block for block in data if block.get("lookup") == "fundraiser_kind")
    words = {line[2:].strip().lower() for line in lookup["examples"].splitlines() if line.strip()}
    synonyms = {
        block["synonym"]: {line.strip()[2:].lower() for line in block["examples"].splitlines() if line.strip()}
        for block in data
        if "synonym" in block
    }
    kinds = set(fundraising_content().kinds)
    assert kinds <= set(synonyms)
    mapped = {word for kind in kinds for word in synonyms[kind]}
    assert words <= mapped, f"lookup words mapped to no kind: {sorted(words - mapped)}"


def test_each_kind_button_names_a_word_of_its_own_kind():
    """The kind buttons send their title as text: the lookup table must find the right kind in it."""
    data = yaml.safe_load((ROOT / "data" / "nlu" / "entities.yml").read_text(encoding="utf-8"))["nlu"]
    synonyms = {b["synonym"]: b["examples"] for b in data if "synonym" in b}
    for key, kind in fundraising_content().kinds.items():
        words = [line.strip()[2:].lower() for line in synonyms[key].splitlines() if line.strip()]
        assert any(re.search(rf"\b{re.escape(w)}\b", kind.title.lower()) for w in words), kind.title


def test_the_guide_is_a_tracked_link_and_every_reply_is_filled():
    assert "fundraising_guide" in links()
    for kind in (None, "birthday"):
        for reply in fundraising_replies(kind, "https://chat.example", "c1"):
            assert "{" not in reply.text
    for reply in contact_replies():
        assert "{" not in reply.text


def test_a_missing_message_is_named_with_its_file(tmp_path):
    with pytest.raises(ContentError, match=re.escape("enquiries.yml: message 'nope'")):
        enquiry_messages()("nope")
    (tmp_path / "newsletter.yml").write_text("consent_sentence: ''\n", encoding="utf-8")
    with pytest.raises(ContentError, match="consent_sentence"):
        consent_sentence(tmp_path)
