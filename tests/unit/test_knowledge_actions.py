"""The history, unknown-fact and safety actions, with rasa_sdk's Tracker and CollectingDispatcher."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import MORE_GIVEN_SLOT, TOPIC_SLOT, ActionAnswerFact, ActionTellMore
from actions.safety import ActionSafetyHelp
from actions.unknown import ActionAnswerUnknownFact
from bot.content.contacts import contacts
from bot.content.facts import facts


def tracker(intent: str, text: str = "", entities: list[dict] | None = None, **slots) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker("unit", slots, message, [], False, None, {}, "action_listen")


def run(action: Action, state: Tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages, events


def entity(name: str, value: str) -> dict:
    return {"entity": name, "value": value}


@pytest.mark.parametrize("topic", [t for t in facts().topics.values() if t.intents], ids=lambda t: t.key)
def test_each_history_intent_gets_its_answer_a_read_more_link_and_a_more_button(topic):
    messages, events = run(ActionAnswerFact(), tracker(topic.intents[0]))

    assert len(messages) == 1
    assert messages[0]["text"].startswith(topic.answer)
    assert facts().article_url in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Tell me more", "payload": "/ask_more"}]
    assert events == [SlotSet(TOPIC_SLOT, topic.key), SlotSet(MORE_GIVEN_SLOT, False)]


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ([entity("place", "Cambodia")], "cambodia"),
        ([entity("place", "phnom penh")], "cambodia"),
        ([entity("place", "Philippines")], "philippines"),
        ([entity("place", "Kenya")], "field_offices"),
        ([entity("place", "Dominican Republic")], "dominican_republic"),
        ([entity("year", "2010")], "philippines"),
        ([entity("year", "1997")], "founding"),
        ([entity("year", "2020")], "india"),
        ([entity("year", "2021")], "dominican_republic"),
        ([entity("event", "brick_kiln")], "india"),
        ([entity("event", "gates_project")], "philippines"),
        # the most specific wins: a named event before a place before a year
        ([entity("year", "2000"), entity("event", "child_marriage")], "dominican_republic"),
        ([entity("year", "2010"), entity("place", "Cambodia")], "cambodia"),
    ],
)
def test_a_place_year_or_event_picks_the_right_topic(entities, expected):
    messages, events = run(ActionAnswerFact(), tracker("ask_event", "what happened?", entities))
    topic = facts().topic(expected)
    assert messages[0]["text"].startswith(topic.answer)
    assert SlotSet(TOPIC_SLOT, expected) in events


def test_a_year_the_article_does_not_cover_gets_an_honest_menu_not_a_guess():
    messages, events = run(ActionAnswerFact(), tracker("ask_event", "what happened in 1999", [entity("year", "1999")]))
    assert messages[0]["text"] == facts().message("unknown_place_or_year")
    assert messages[0]["buttons"] and all(b["payload"].startswith("/ask_") for b in messages[0]["buttons"])
    assert events == []


def test_an_event_question_naming_nothing_offers_every_topic():
    messages, _ = run(ActionAnswerFact(), tracker("ask_event", "what happened back then?"))
    assert messages[0]["text"] == facts().message("pick_a_topic")
    assert len(messages[0]["buttons"]) == len(facts().topics)


def test_tell_me_more_continues_the_last_topic_once_then_points_to_the_article():
    founder = facts().topic("founder")
    messages, events = run(ActionTellMore(), tracker("ask_more", **{TOPIC_SLOT: "founder", MORE_GIVEN_SLOT: False}))
    assert messages[0]["text"].startswith(founder.more)
    assert events == [SlotSet(MORE_GIVEN_SLOT, True)]

    messages, events = run(ActionTellMore(), tracker("ask_more", **{TOPIC_SLOT: "founder", MORE_GIVEN_SLOT: True}))
    assert messages[0]["text"] == facts().message("nothing_more", title=founder.title, url=facts().article_url)
    assert "founder" not in [b["payload"] for b in messages[0]["buttons"]]
    assert events == []


def test_tell_me_more_with_nothing_before_offers_the_topics():
    messages, events = run(ActionTellMore(), tracker("ask_more"))
    assert messages[0]["text"] == facts().message("pick_a_topic")
    assert events == []


@pytest.mark.parametrize(
    ("question", "contact"),
    [
        ("can I get a tax receipt for my gift?", "donor_care"),
        ("are you hiring right now", "careers"),
        ("I'm a journalist, who handles press?", "media"),
        ("how much does the CEO earn", "general"),
    ],
)
def test_an_unknown_fact_gets_an_honest_answer_and_the_right_contact(question, contact):
    expected = contacts().get(contact)
    messages, _ = run(ActionAnswerUnknownFact(), tracker("ask_ijm_unknown", question))
    text = messages[0]["text"]
    assert text.startswith(contacts().unknown_message)
    assert expected.details() in text
    assert expected.name in text.casefold() or expected.name[:1].upper() + expected.name[1:] in text


def test_the_safety_answer_gives_emergency_hotline_and_cybertip_at_once():
    messages, events = run(ActionSafetyHelp(), tracker("disclose_danger", "they took my passport"))
    text = messages[0]["text"]
    assert "911" in text
    assert "1-833-900-1010" in text
    assert "https://www.cybertip.ca" in text
    assert "{" not in text  # every placeholder filled
    assert events == []
