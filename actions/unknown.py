"""Questions about IJM that the article does not answer: say so honestly and give the right contact."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.journey_thread import continue_journey
from actions.knowledge import (
    answer_card,
    answer_in_order,
    answer_in_time,
    card_in_context,
    covered,
    figures_in,
    message_text,
    question_words,
    ranked_cards,
)
from bot.content.contacts import contacts
from bot.content.facts import Card, Facts, facts


class ActionAnswerUnknownFact(Action):
    """A question the article does not answer. A short one that points back at the card just answered ("does that
    include abuse online?", "is that a salary?", "when did the office open?" after the Cambodia rescue) is first
    tried against that card's topic: answered from the card (with "I don't have that" first when it asks a detail
    the article does not give)."""

    def name(self) -> str:
        return "action_answer_unknown_fact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if (journey := continue_journey(tracker)) is not None:
            return journey  # "who do I email about it?" after the fundraiser ideas
        knowledge = facts()
        if (in_time := answer_in_time(dispatcher, tracker, knowledge)) is not None:
            return in_time
        if (in_order := answer_in_order(dispatcher, tracker, knowledge)) is not None:
            return in_order
        in_context = card_in_context(knowledge, tracker, definite=True)
        if in_context is not None:
            # DIET read a question the article can't answer; the card in the thread says so first unless its answer
            # has the words the question asks about: both of one or two ("when did the office open?" after the
            # Cambodia rescue; not "and their birthdays?"), a third of more ("does that include abuse online?" after
            # the kinds of violence, whose answer names online exploitation)
            stems = question_words(message_text(tracker))
            untold = covered(stems, in_context.answer) < (len(stems) if len(stems) <= 2 else -(-len(stems) // 3))
            return answer_card(dispatcher, tracker, knowledge, in_context, asked=True, in_thread=True, untold=untold)
        if (figure_card := card_of_figure_named(knowledge, tracker)) is not None:
            return answer_card(dispatcher, tracker, knowledge, figure_card, asked=True, in_thread=True)
        dispatcher.utter_message(text=honest_reply(tracker.latest_message.get("text") or ""))
        return []


def card_of_figure_named(knowledge: Facts, tracker: Tracker) -> Card | None:
    """The NLU's first card when the message names one of the figures its answer gives ("is the 76063 a salary or
    something?": the article says what that figure is, so its card answers rather than "I don't have that")."""
    named = figures_in(tracker.latest_message.get("text") or "")
    first = next(iter(ranked_cards(knowledge, tracker)), None)
    if first is None or not named:
        return None
    return first if named & figures_in(first.answer) else None


def honest_reply(question: str) -> str:
    """ "I don't have that information", and the contact the question's words route to (contacts.yml)."""
    content = contacts()
    return f"{content.unknown_message} {content.line_for(content.route_for(question))}"


class ActionAnswerRequest(Action):
    """Partnerships, volunteering: a thank-you and the right contacts from contacts.yml `requests`."""

    def name(self) -> str:
        return "action_answer_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = contacts()
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        reply = content.request_reply(intent)
        if reply is None:
            contact = content.route_for(tracker.latest_message.get("text") or "")
            reply = f"{content.unknown_message} {content.line_for(contact)}"
        dispatcher.utter_message(text=reply)
        return []
