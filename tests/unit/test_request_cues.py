"""Requests one phrase makes unmistakable, whatever DIET read (bot/nlu/request_cues.py, cues from config.yml)."""

from __future__ import annotations

import pytest
import yaml

from bot.nlu.request_cues import RequestCues
from tests.conftest import ROOT
from tests.unit.nlu_messages import parsed


def configured() -> RequestCues:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    return RequestCues(next(c for c in pipeline if c["name"].endswith("RequestCues")))


def read(text: str, intent: str, confidence: float = 0.45) -> dict:
    message = parsed(text, [(intent, confidence), ("ask_impact", 0.2)])
    configured().process([message])
    return message.get("intent")


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("My husband and I are considering a gift of $250,000 to IJM Canada this year.", "nlu_fallback", "donate"),
        ("our family foundation is looking at a 150,000$ gift, who do we speak with", "nlu_fallback", "donate"),
        ("we'd like to contribute 500 dollars from our bake sale", "out_of_scope", "donate"),
        ("Hi, I'm a reporter working on a story about IJM's 25th anniversary", "ask_anniversary", "media_enquiry"),
        ("this is a producer at CBC radio, doing a segment on trafficking", "nlu_fallback", "media_enquiry"),
        ("my grade 6 class wants to partner with ijm on something", "ask_media_coverage", "ask_partnership"),
        ("how could our company become a corporate partner", "nlu_fallback", "ask_partnership"),
        ("never mind, i'll just email them directly", "nlu_fallback", "stop"),
        ("nvm", "out_of_scope", "stop"),
        ("actually stop, i'll just email you directly", "nlu_fallback", "stop"),
        ("no you know what, forget the emails, i'll just do the donation", "deny", "stop"),
        ("wait actually never mind, i'll keep getting them", "unsubscribe_newsletter", "stop"),
        ("We would like to set up a monthly donation of forty dollars, if that's possible", "nlu_fallback", "donate"),
        ("ok and the 30 a month link?", "out_of_scope", "donate"),
        ("a hockey tournament where all the entry fees go to IJM. None of us have ever done a fundraiser before.",
         "nlu_fallback", "fundraise"),
        ("hi, i'm a reporter working on a piece about the 25th anniversary, who do i talk to", "ask_anniversary",
         "media_enquiry"),
        ("and if I have a question who do I write to", "safety_followup", "talk_to_person"),
        ("who do i tell once i've set it up", "donate", "talk_to_person"),  # after the fundraiser ideas
        ("ok what email then", "nlu_fallback", "talk_to_person"),
        ("sorry what was the email", "nlu_fallback", "talk_to_person"),
        ("what email do I use for questions about events?", "nlu_fallback", "talk_to_person"),
        ("and if i just want to help out with an event?", "nlu_fallback", "ask_volunteer"),
        ("whats the polar dip thing", "nlu_fallback", "fundraise"),
        ("no live chat? i just need someone to get back to me about a cheque i mailed", "nlu_fallback",
         "talk_to_person"),
    ],
)  # fmt: skip
def test_a_request_is_recognised_by_its_cue(text, intent, expected):
    assert read(text, intent) == {"name": expected, "confidence": 0.9}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how much of my $50 gift goes to overhead?", "nlu_fallback"),  # a question for donor care, not a gift
        ("I'm a journalist. How many people has IJM rescued?", "ask_impact"),  # the question comes first
        ("how did IJM partner with local authorities in Cambodia?", "ask_event"),
        ("never mind, what year did ijm start", "nlu_fallback"),
        ("did IJM's work stop during the pandemic?", "ask_covid"),
        ("how did they stop the trafficking of minors in cambodia", "ask_event"),
        ("they took my $500 and say I owe them, I am a journalist", "disclose_danger"),  # safety is never replaced
        ("I gave $20 last year", "ask_impact"),  # a gift cue only replaces what DIET could not place
        ("stop sending me emails", "unsubscribe_newsletter"),
        ("stop the emails please", "unsubscribe_newsletter"),
        ("did 60 minutes do a story on ijm", "ask_media_coverage"),  # about a story, not a journalist's
        ("sign me up for the raptors season ticket waitlist", "out_of_scope"),
        ("sign me up for the raptors season ticket waitlist", "nlu_fallback"),
        ("ideas for a bake sale to raise money for my son's hockey team", "out_of_scope"),  # not for IJM
        ("who do i contact if i suspect trafficking", "safety_followup"),  # where to report, not a person to write to
        ("how much money goes to ijm programs", "nlu_fallback"),
        ("please cancel this month's gift", "talk_to_person"),  # "cancel this" only at the end stops a form
        ("what about 2003?", "ask_followup"),  # a year, not an amount
        ("who do i tell if i want to give $50 in her name", "donate"),  # a gift, with whom to tell
        ("what email did you send me", "subscribe_newsletter"),  # a reading the address cue does not replace
        ("did the polar dip raise a lot", "ask_impact"),  # a fundraiser's word in a question DIET placed
    ],
)  # fmt: skip
def test_what_the_cues_leave_alone(text, intent):
    assert read(text, intent)["name"] == intent


def test_a_button_payload_is_never_read_for_cues():
    assert read("/stop never mind", "nlu_fallback")["name"] == "nlu_fallback"


@pytest.mark.parametrize(
    ("text", "ranking", "expected"),
    [
        ("hi, can i speak with somebody at ijm", [("greet", 0.7), ("talk_to_person", 0.18), ("donate", 0.04)],
         "talk_to_person"),
        ("hi what can you help me with", [("greet", 0.67), ("ask_capabilities", 0.18)], "ask_capabilities"),
        # DIET's other reading too unsure: the greeting stands
        ("hi, im a student writing something", [("greet", 0.67), ("donate", 0.14)], "greet"),
        ("hi there!", [("greet", 0.99), ("thank", 0.005)], "greet"),  # only a greeting
        ("hey how are you", [("greet", 0.9), ("goodbye", 0.2)], "greet"),  # nothing but courtesies to take
        # a longer greeting that asks for nothing stays one
        ("hey, good afternoon to whoever's on the other end", [("greet", 0.6), ("donate", 0.2)], "greet"),
    ],
)  # fmt: skip
def test_a_request_after_a_greeting_takes_diets_best_other_reading(text, ranking, expected):
    message = parsed(text, ranking)
    configured().process([message])
    assert message.get("intent")["name"] == expected


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("need to talk to an actual person about my receipts", "nlu_fallback", "talk_to_person"),
        ("can i talk to someone about changing my existing monthly gift though", "donate", "talk_to_person"),
        ("actually sign up my work address instead, jpark@ubc.ca", "talk_to_person", "subscribe_newsletter"),
        ("and sign up the new one please", "nlu_fallback", "subscribe_newsletter"),
        ("actually can i do fifty instead", "stop", "donate"),
        ("hello i write for my university student newspaper and want to do a story on ijm", "nlu_fallback",
         "media_enquiry"),
        ("Is there someone I could speak with directly about my monthly giving?", "donate", "talk_to_person"),
        ("actually i'll just email info directly, cancel this", "ask_followup", "stop"),
        ("just one time is fine", "affirm", "donate"),
        ("ok actually lets start with $5,000 online and go from there", "ask_impact", "donate"),
        ("how about 40 dollars", "nlu_fallback", "donate"),
        ("monthly please", "nlu_fallback", "donate"),
    ],
)  # fmt: skip
def test_more_requests_by_their_cue(text, intent, expected):
    assert read(text, intent)["name"] == expected


def test_unsubscribing_an_address_is_not_signing_it_up():
    assert read("please unsubscribe jo@example.org, don't sign me up again", "unsubscribe_newsletter")["name"] == (
        "unsubscribe_newsletter"
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how can i help", "ask_event"),  # DIET's reading before the cue: the Dominican bill's card
        ("How can I support IJM?", "nlu_fallback"),
        ("ways to help?", "nlu_fallback"),
        ("what can i do to help", "ask_capabilities"),
        ("i want to help", "donate"),  # the gift's own intent, asked as the ways to help
        ("ok thanks, how can we help out?", "ask_followup"),
        ("are there other ways i can help", "ask_volunteer"),
    ],
)
def test_asking_how_to_help_is_the_gifts_intent_marked_as_the_ways_to_help(text, intent):
    message = parsed(text, [(intent, 0.6), ("ask_impact", 0.2)])
    configured().process([message])
    assert message.get("intent") == {"name": "donate", "confidence": 0.9}
    assert message.get("request") == "ways_to_help"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how can I help my friend who is being kept at a farm", "disclose_danger"),  # safety is never replaced
        ("how can i help her?", "safety_followup"),  # after the safety answer: the person, not IJM
        ("how can I help fund rescues", "donate"),  # a gift, asked as one
        ("I want to help but I don't have money", "ask_volunteer"),
        ("what ways did ijm help the girls", "ask_event"),
        ("what can i do", "ask_capabilities"),
    ],
)
def test_what_the_ways_to_help_cue_leaves_alone(text, intent):
    message = parsed(text, [(intent, 0.6), ("ask_impact", 0.2)])
    configured().process([message])
    assert message.get("intent")["name"] == intent and message.get("request") is None
