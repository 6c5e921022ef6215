"""Answers about IJM's history and impact, from bot/content/facts.yml (grounded in the 25-years article).

A question picks a topic by its intent, or, for "what happened in Cambodia / in 2010 / at the brick kiln?",
by the place, year or event it names. The topic is remembered, so "tell me more" continues it.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.content.facts import Facts, Topic, facts

TOPIC_SLOT = "fact_topic"
MORE_GIVEN_SLOT = "fact_more_given"


def topic_payload(topic: Topic) -> str:
    """A button payload that asks for exactly this topic, whatever the model would make of free text."""
    if topic.intents:
        return f"/{topic.intents[0]}"
    for entity, values in (("place", topic.places), ("event", topic.events), ("year", topic.years)):
        if values:
            return "/ask_event" + json.dumps({entity: str(values[0])})
    raise ValueError(f"topic {topic.key} can be asked for neither by intent nor by entity")


def topic_buttons(topics: list[Topic]) -> list[dict[str, str]]:
    return [{"title": topic.title, "payload": topic_payload(topic)} for topic in topics]


def send_topic_menu(dispatcher: CollectingDispatcher, content: Facts, message_key: str, topics: list[Topic]) -> None:
    dispatcher.utter_message(text=content.message(message_key), buttons=topic_buttons(topics))


class ActionAnswerFact(Action):
    """Answer a question about IJM's history or impact with its topic's short answer."""

    def name(self) -> str:
        return "action_answer_fact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = facts()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        entities = {name: list(tracker.get_latest_entity_values(name)) for name in ("place", "year", "event")}
        topic = content.for_intent(intent) or content.for_entities(
            entities["place"], entities["year"], entities["event"]
        )
        if topic is None:
            named_something = any(entities.values())
            menu = content.topics_with_entities() if named_something else list(content.topics.values())
            send_topic_menu(dispatcher, content, "unknown_place_or_year" if named_something else "pick_a_topic", menu)
            return []
        dispatcher.utter_message(
            text=f"{topic.answer}\n\n{content.read_more_line()}",
            buttons=[{"title": content.more_button, "payload": "/ask_more"}],
        )
        return [SlotSet(TOPIC_SLOT, topic.key), SlotSet(MORE_GIVEN_SLOT, False)]


class ActionTellMore(Action):
    """Continue the last topic: its `more` text once, then the article and the other topics."""

    def name(self) -> str:
        return "action_tell_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = facts()
        topic = content.topic(tracker.get_slot(TOPIC_SLOT))
        if topic is None:
            send_topic_menu(dispatcher, content, "pick_a_topic", list(content.topics.values()))
            return []
        if tracker.get_slot(MORE_GIVEN_SLOT):
            others = [t for t in content.topics.values() if t.key != topic.key]
            dispatcher.utter_message(
                text=content.message("nothing_more", title=topic.title, url=content.article_url),
                buttons=topic_buttons(others),
            )
            return []
        dispatcher.utter_message(text=f"{topic.more}\n\n{content.read_more_line()}")
        return [SlotSet(MORE_GIVEN_SLOT, True)]
