"""Reading answers to form questions: answer, interruption, or a way out (bot/supporters/understanding.py)."""

from __future__ import annotations

import pytest

from actions.interruptions import ANSWERABLE_MID_FORM
from bot.supporters.understanding import (
    Message,
    clean_name,
    clean_text,
    is_explicit_yes,
    is_interruption,
    looks_like_question,
    reads_consent,
    wants_to_skip,
)


def msg(text: str, intent: str | None = "nlu_fallback", confidence: float = 0.8) -> Message:
    return Message(text=text, intent=intent, confidence=confidence)


@pytest.mark.parametrize(
    ("message", "interrupts"),
    [
        (msg("when was IJM founded?", "ask_founding"), True),
        (msg("how many people has IJM helped", "ask_impact"), True),
        (msg("tell me about the founder", "ask_founder"), True),
        (msg("/donate", "donate", 1.0), True),  # a topic button pressed mid-form
        (msg("thanks", "thank", 0.99), True),
        (msg("Friday at noon", "greet", 0.9), False),
        (msg("never mind", "stop"), True),
        (msg("bye", "goodbye"), True),
        (msg("they took my passport", "disclose_danger", 1.0), True),
        # answers, even when the model reads something into them
        (msg("Grace", "greet", 0.6), False),
        (msg("CBC Radio", "ask_media_coverage", 0.7), False),
        (msg("next spring", "ask_anniversary", 0.6), False),
        (msg("yes", "affirm", 0.99), False),
        (msg("sam@example.org", "unsubscribe_newsletter", 0.9), False),
        # `stop` from one word of an answer ("end of june" for a date) is the answer; with a word of stopping, a way out
        (msg("end of june", "stop", 0.9), False),
        (msg("actually cancel, i need to talk to my boss first", "stop", 0.9), True),
        (msg("/stop", "stop", 1.0), True),
        (msg("a trivia night", "goodbye", 0.75), False),  # "night" is no good night
        (msg("ok thanks, bye!", "goodbye", 0.9), True),
    ],
)
def test_what_interrupts_a_form(message, interrupts):
    assert is_interruption(message, ANSWERABLE_MID_FORM) is interrupts


def test_an_open_question_is_the_answer_itself_unless_it_is_a_way_out():
    question = msg("How has IJM's work in Cambodia changed?", "ask_event", 0.9)
    assert is_interruption(question, ANSWERABLE_MID_FORM, open_text=False)
    assert not is_interruption(question, ANSWERABLE_MID_FORM, open_text=True)
    assert is_interruption(msg("stop", "stop"), ANSWERABLE_MID_FORM, open_text=True)
    assert is_interruption(msg("I am being held", "disclose_danger"), ANSWERABLE_MID_FORM, open_text=True)


def test_a_sure_request_without_an_address_interrupts_an_email_question():
    request = msg("a person at ijm in general please", "talk_to_person", 0.99)
    assert is_interruption(request, ANSWERABLE_MID_FORM, expects_address=True)
    assert not is_interruption(request, ANSWERABLE_MID_FORM)  # a name or a date could read so: not there
    # an address, however the model reads it, is the answer; so is an unsure reading, which the address check
    # then explains ("that doesn't look like an e-mail address")
    address = msg("media@example.org", "media_enquiry", 0.95)
    assert not is_interruption(address, ANSWERABLE_MID_FORM, expects_address=True)
    assert not is_interruption(msg("sam at example", "talk_to_person", 0.6), ANSWERABLE_MID_FORM, expects_address=True)
    # the visitor's own phone number or address in words is a (wrong) answer, not a request for the contacts
    phone = msg("you can text me at 604-555-0182", "talk_to_person", 0.96)
    assert not is_interruption(phone, ANSWERABLE_MID_FORM, expects_address=True)
    asked = msg("before I give my email, what year did IJM open its first field offices?", "ask_field_offices", 0.99)
    assert is_interruption(asked, ANSWERABLE_MID_FORM, expects_address=True)  # a question, though it says "my email"
    in_words = msg("marcus.bell at gmail dot", "out_of_scope", 0.99)
    assert not is_interruption(in_words, ANSWERABLE_MID_FORM, expects_address=True)
    no_at = msg("wei.seventh hotmail.com", "talk_to_person", 0.81)  # the "@" left out: a (wrong) answer all the same
    assert not is_interruption(no_at, ANSWERABLE_MID_FORM, expects_address=True)


@pytest.mark.parametrize(
    ("message", "yes"),
    [
        (msg("yes", "affirm"), True),
        (msg("Yes, I agree", "affirm"), True),
        (msg("/affirm", "affirm", 1.0), True),
        (msg("sure", "affirm"), True),
        (msg("ok sure why not", "affirm"), True),  # "why not" is a yes
        (msg("yep go ahead", "nlu_fallback"), True),
        (msg("no", "deny"), False),
        (msg("yes... no, I don't agree", "affirm"), False),  # negated: not explicit
        (msg("not really", "affirm"), False),
        (msg("maybe later", "nlu_fallback"), False),
        (msg("what do you do with my email?", "ask_ijm_unknown"), False),
        (msg("", None, 0.0), False),
    ],
)
def test_only_an_explicit_yes_is_consent(message, yes):
    assert is_explicit_yes(message) is yes


@pytest.mark.parametrize("text", ["skip", "Skip.", "no thanks", "rather not", "n/a", "I prefer not to"])
def test_skipping_the_optional_name(text):
    assert wants_to_skip(msg(text))


@pytest.mark.parametrize("name", ["Nora", "Noor", "Noah", "Nona"])
def test_a_name_is_not_a_skip_even_when_the_model_reads_it_as_deny(name):
    """Found by the load benchmark: the model reads these first names as `deny`."""
    assert not wants_to_skip(msg(name))
    assert not wants_to_skip(msg(name, "deny"))


def test_a_refusal_in_words_is_a_skip():
    assert wants_to_skip(msg("I don't want to give it", "deny"))
    assert wants_to_skip(msg("nah", "deny"))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Jane", "Jane"),
        ("my name is Jean-Luc Picard.", "Jean-Luc Picard"),
        ("I'm Amélie", "Amélie"),
        ("hi, it's  O'Brien ", "O'Brien"),
        ("<script>alert(1)</script>", None),
        ("bob@example.com", None),
        ("12345", None),
        ("", None),
        ("x" * 200, None),
        ("this is a very long sentence and not a name at all", None),
        ("Ann\x00\x07", "Ann"),
        ("Great. My name is Alisha Karim.", "Alisha Karim"),
        ("yes please, Nicole Fournier", "Nicole Fournier"),
        ("ok sure why not", None),
    ],
)
def test_names(text, name):
    assert clean_name(text) == name


def test_clean_text_tidies_and_limits():
    assert clean_text("  next\n\tMarch \x1b ") == "next March"
    assert clean_text("!!!") is None
    assert clean_text("a" * 201) is None
    assert clean_text("a" * 201, limit=500) == "a" * 201


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("where do you work?", True),
        ("How did it start", True),
        ("Toronto Star", False),
        ("Is it safe", True),
        ("and how do I reach a person", True),
        ("ok so who do I write to", True),
        ("Andrew", False),
        ("So-Yeon", False),
    ],
)
def test_looks_like_question(text, question):
    assert looks_like_question(text) is question


@pytest.mark.parametrize(
    ("message", "consent"),
    [
        (msg("ok sure why not", "affirm"), True),
        (msg("nah", "deny"), False),
        (msg("not interested", "nlu_fallback"), False),
        (msg("no thank you", "deny"), False),
        (msg("hmm i guess? maybe?", "deny", 0.97), None),
        (msg("hmm no actually, i get way too much email already", "nlu_fallback"), False),
        (msg("go for it", "nlu_fallback"), True),  # DIET's `deny`, but no no in the words: asked again
        (msg("hmm before i agree, how often do you send them", "nlu_fallback"), None),
    ],
)
def test_consent_is_yes_no_or_asked_again(message, consent):
    assert reads_consent(message) is consent


def test_a_condition_asked_at_a_name_question_is_a_question():
    # "and if its about an event instead" at the media form's name question (read as fundraising, unsurely)
    asked = msg("and if its about an event instead", "fundraise", 0.51)
    assert looks_like_question(asked.text) and is_interruption(asked, ANSWERABLE_MID_FORM, expects_name=True)
    assert not looks_like_question("Ifeoma Obi")


def test_a_long_request_the_model_is_sure_of_is_no_name():
    gift = msg("honestly that sounds like a lot of work, can i just donate $60 instead", "donate", 0.96)
    assert is_interruption(gift, ANSWERABLE_MID_FORM, expects_name=True)
    assert not is_interruption(gift, ANSWERABLE_MID_FORM)  # elsewhere, no question: an answer
    # a name, however the model reads it, and a long one the model is unsure of
    assert not is_interruption(
        msg("Marie-Claire Dubois-Tremblay", "donate", 0.9), ANSWERABLE_MID_FORM, expects_name=True
    )
    unsure = msg("it's Jean Paul from the church group in Red Deer", "ask_event", 0.5)
    assert not is_interruption(unsure, ANSWERABLE_MID_FORM, expects_name=True)
