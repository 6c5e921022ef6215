"""The safety answer: real help, at once, for anyone who discloses danger or exploitation; careful answers to
the questions that follow it; and the numbers as information for a general "how do I report…?".

The answer never asks for details of the abuse. Which tier of the NLU recognised the disclosure (the model, the
phrase net or both: bot/nlu/safety_override.py) is kept in the `safety_tier` slot, so the console can show it.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.journey_thread import last_bot_action
from bot.content.safety import safety_content

SAFETY_TIER_SLOT = "safety_tier"
FOLLOW_UP_INTENT = "safety_followup"
# A safety follow-up ("should I delete the messages?") read where no safety answer was given is answered as one only
# when the NLU is this sure: otherwise a donor's "who should we contact?" is told not to delete any messages. Below
# it, the numbers as information (report_info): neutral for the donor, and still real help for someone at risk.
FOLLOW_UP_OUT_OF_CONTEXT_MIN = 0.8


# After the safety answer, whatever the NLU made of them: asking for the number again ("what's that number again",
# read as a question about IJM's figures) gets the numbers; doubting oneself ("i'm not sure tho, maybe i'm
# overreacting", read as a no) right after it gets the follow-up for someone unsure (safety.yml `unsure`).
NUMBER_AGAIN = re.compile(
    r"\b(numbers?|phone|hotline|line)\b[^.?!]{0,25}\b(again|once more|one more time)\b|"
    r"\bwhat('?s|s| is| was) (that|the|their|this|your) (number|phone number|hotline( number)?|line)\b|"
    r"\b(which|what) number (do|should|can|could) (i|we) (call|dial|use|try)\b|\b(who|what) (do|should) (i|we) call\b|"
    r"^\W*((and|ok|okay|sorry|so)\W+)*(the )?(number|hotline|phone number)( again| pls| please)?\W*$",
    re.IGNORECASE,
)
UNSURE = re.compile(
    r"\b(not (really |totally |completely |100% |even )?(sure|certain)|overreact\w*|over-react\w*|"
    r"might be (nothing|wrong)|maybe (it'?s|i'?m) (nothing|wrong|paranoid|imagining( things)?)|"
    r"(don'?t|do not|dont) (really )?know (if|whether)|could be wrong|probably nothing|i might be wrong)\b",
    re.IGNORECASE,
)
THREAD_WORDS = 16


def safety_thread_reply(tracker: Tracker) -> str | None:
    """What to say to a message in the thread of the safety answer that another intent took (see NUMBER_AGAIN), or
    None: the numbers again any time after the safety answer; the follow-up for someone unsure right after it."""
    text = str(tracker.latest_message.get("text") or "")
    if tracker.get_slot(SAFETY_TIER_SLOT) is None or text.startswith("/") or len(text.split()) > THREAD_WORDS:
        return None
    content = safety_content()
    if NUMBER_AGAIN.search(text):
        return content.report_info
    if UNSURE.search(text) and last_bot_action(tracker) == ActionSafetyHelp.NAME:
        return content.follow_up("unsure")
    return None


def answered_in_safety_thread(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Send the safety thread's reply (safety_thread_reply) when the message has one; whether it did."""
    reply = safety_thread_reply(tracker)
    if reply is not None:
        dispatcher.utter_message(text=reply)
    return reply is not None


def follow_up_key(tracker: Tracker) -> str | None:
    """The follow-up question's key (`safety_followup/<key>`), from the card matcher's ranking."""
    ranking = (tracker.latest_message.get("fact_card") or {}).get("ranking") or []
    prefix = FOLLOW_UP_INTENT + "/"
    return next((e["label"][len(prefix) :] for e in ranking if str(e.get("label", "")).startswith(prefix)), None)


class ActionSafetyHelp(Action):
    NAME = "action_safety_help"

    def name(self) -> str:
        return self.NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = safety_content()
        message = tracker.latest_message
        intent = message.get("intent") or {}
        if intent.get("name") == FOLLOW_UP_INTENT:
            in_safety_conversation = tracker.get_slot(SAFETY_TIER_SLOT) is not None
            if not in_safety_conversation and float(intent.get("confidence") or 0) < FOLLOW_UP_OUT_OF_CONTEXT_MIN:
                dispatcher.utter_message(text=content.report_info)
                return []
            dispatcher.utter_message(text=content.follow_up(follow_up_key(tracker)))
            return []
        dispatcher.utter_message(text=content.answer.message)
        dispatcher.utter_message(text=content.answer.follow_up)
        tier = (message.get("safety") or {}).get("tier") or "direct"  # "direct": a button or payload
        return [SlotSet(SAFETY_TIER_SLOT, tier)]


class ActionReportInfo(Action):
    """ "How do I report trafficking?": the numbers, as information."""

    def name(self) -> str:
        return "action_report_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=safety_content().report_info)
        return []
