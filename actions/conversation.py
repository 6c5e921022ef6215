"""Actions that steer the conversation: what the assistant can do, and the honest fallbacks.

Each sends a message from bot/content/assistant.yml followed by the main topics as buttons, so the topic
list lives in one editable place.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.journey_thread import continue_journey, last_bot_action
from actions.knowledge import (
    CARD_SLOT,
    answer_card,
    answer_in_time,
    card_in_thread,
    fallback_follow_up,
    is_short_question_in_thread,
    pronoun_follow_up,
    route_followed_up,
)
from actions.safety import ActionSafetyHelp, answered_in_safety_thread
from actions.unknown import honest_reply
from bot.content.assistant import assistant_content
from bot.content.contacts import contacts
from bot.content.facts import facts
from bot.content.safety import safety_content
from bot.supporters.understanding import looks_like_question

# a message asked of IJM itself ("do you have any jobs?", "does ijm hire interns?")
ASKED_OF_IJM = re.compile(r"\b(you|your|u|ur|ijm|international justice)\b", re.IGNORECASE)


class TopicMenuAction(Action, ABC):
    """Send one content message, then the main topics as buttons."""

    @property
    @abstractmethod
    def message_key(self) -> str:
        """The key of the message in assistant.yml."""

    def events_after(self) -> list[EventType]:
        return []

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = assistant_content()
        dispatcher.utter_message(text=content.message(self.message_key), buttons=content.topic_buttons())
        return self.events_after()


class ContextFirst(TopicMenuAction, ABC):
    """A message right after the safety answer that the NLU could not place gets the help again.
    A short message right after a journey's answer is about that journey (actions/journey_thread.py).
    A short message right after a fact card may be a follow-up the NLU could not place ("and the result?"):
    answered from that card's topic when its words match one of its cards; otherwise the honest menu.
    `pronouns`: a short message that points back with a pronoun ("did IJM have a role in it?") is a follow-up too;
    not for an out-of-scope one ("is it cold there?" after the Cambodia rescue is not about Cambodia's history)."""

    pronouns = False
    # a message not understood that names a contact route's word gets that contact; an out-of-scope one only when it
    # is asked of IJM ("do you have any jobs in toronto"; "are robots going to take all our jobs" is no job enquiry)
    routes_to_contacts = False
    routes_when_addressed = False

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if answered_in_safety_thread(dispatcher, tracker):  # "what's that number again" after the safety answer
            return []
        if last_bot_action(tracker) == ActionSafetyHelp.NAME:
            # "he's in the next room" right after the safety answer: the help again, never the topic menu
            dispatcher.utter_message(text=safety_content().answer.message)
            return []
        if (journey := continue_journey(tracker)) is not None:
            return journey
        if (route := route_followed_up(tracker)) is not None:
            dispatcher.utter_message(text=route)  # "link?" after "jobs at ijm canada?": the careers page again
            return []
        content = facts()
        if (in_time := answer_in_time(dispatcher, tracker, content)) is not None:
            return in_time
        card = fallback_follow_up(content, tracker, pronouns=self.pronouns)
        if card is not None:
            return answer_card(dispatcher, tracker, content, card, asked=True, in_thread=True)
        # "where do i apply?", "any jobs or internships at ijm?": not understood as a whole, but a word of a contact
        # route (contacts.yml) says who can help; the honest line and that contact, not the topic menu
        text = str(tracker.latest_message.get("text") or "")
        routes = self.routes_to_contacts or (self.routes_when_addressed and ASKED_OF_IJM.search(text) is not None)
        if routes and contacts().routed(text) is not None:
            dispatcher.utter_message(text=honest_reply(text))
            return []
        return await super().run(dispatcher, tracker, domain)


class ActionListCapabilities(TopicMenuAction):
    """Answer "what can you do?". Right after a card, a short question that points back with a pronoun is that
    card's follow-up, however DIET read it ("who does it help?" after the Dominican bill is not "who can you help?")."""

    message_key = "capabilities"

    def name(self) -> str:
        return "action_list_capabilities"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = facts()
        last = content.card(tracker.get_slot(CARD_SLOT))
        if last is not None and pronoun_follow_up(tracker, last):
            card = card_in_thread(content, tracker, last)
            return answer_card(dispatcher, tracker, content, card, asked=True, in_thread=True)
        return await TopicMenuAction.run(self, dispatcher, tracker, domain)


class ActionFallbackTopics(ContextFirst):
    """Say honestly that the message was not understood (NLU confidence below the threshold)."""

    message_key = "not_understood"
    pronouns = True
    routes_to_contacts = True

    def name(self) -> str:
        return "action_fallback_topics"


class ActionOutOfScopeTopics(ContextFirst):
    """Say honestly that the request is outside what the assistant does."""

    message_key = "out_of_scope"
    routes_when_addressed = True

    def name(self) -> str:
        return "action_out_of_scope_topics"


class ActionNothingPending(Action):
    """A yes or a no with nothing pending: "OK! Is there anything else I can help with?". But a short question DIET
    read as one right after a fact card ("online too?" as yes, "who noticed?" as no) is that card's follow-up, and
    one right after a journey's answer ("wait is that monthly for sure" after the link) is the journey's."""

    def name(self) -> str:
        return "action_nothing_pending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if answered_in_safety_thread(dispatcher, tracker):  # "i'm not sure tho, maybe i'm overreacting" after it
            return []
        text = str(tracker.latest_message.get("text") or "")
        if looks_like_question(text) and (journey := continue_journey(tracker)) is not None:
            return journey
        content = facts()
        last = content.card(tracker.get_slot(CARD_SLOT))
        if last is not None and is_short_question_in_thread(tracker, last, question_mark=True):
            card = card_in_thread(content, tracker, last)
            return answer_card(dispatcher, tracker, content, card, asked=True, in_thread=True)
        dispatcher.utter_message(text=assistant_content().message("nothing_pending"))
        return []


class ActionCoreFallback(TopicMenuAction):
    """Used by the RulePolicy when no policy is confident about the next action.

    The visitor's last message is reverted so that it does not derail the rest of the conversation.
    """

    message_key = "lost_track"

    def name(self) -> str:
        return "action_core_fallback"

    def events_after(self) -> list[EventType]:
        return [UserUtteranceReverted()]
