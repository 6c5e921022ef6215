"""A short message right after a supporter journey's answer, that the rest of the assistant cannot place, is about
that journey: "there is some document for help me?" after the fundraiser ideas (read as out of scope), "never done
one before, any help?" (read as a question about the founder, with no card close), "ok give me the link" after the
matching answer (not understood). Its answer is the journey's own follow-up (for the fundraiser: the guide, the events
team and the offer), never the topic menu or a guessed fact.

data/rules.yml sends `ask_followup` and `nlu_fallback` there too; this covers the intents a rule cannot list.

Asking for a link again ("ok np. can you send me that link again") reaches further back: to the last journey in the
conversation that gave a link, with the amount and frequency the visitor named then, though a newsletter sign-up
came in between.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction

# The journey's answer → the action that answers a follow-up to it.
JOURNEYS = {
    "action_donate": "action_donate",
    "action_answer_matching": "action_donate",
    "action_fundraising_ideas": "action_fundraising_ideas",
    "action_offer_contacts": "action_offer_contacts",
}
JOURNEY_WORDS = 8
LISTEN = "action_listen"
# The journeys whose answer is a link, and the action that gives it again.
LINK_JOURNEYS = {
    "action_donate": "action_donate",
    "action_answer_matching": "action_donate",
    "action_fundraising_ideas": "action_fundraising_ideas",
}
LINK_AGAIN = re.compile(
    r"\b(link|url)\b.{0,30}\b(again|one more time|once more)\b|\b(resend|re-send|send again)\b.{0,20}\blink\b|"
    r"\bwhat was (the|that) link\b|\b(lost|closed)\b.{0,30}\b(link|tab|page)\b",
    re.IGNORECASE,
)
LINK_AGAIN_WORDS = 14
# "ok and what's the events email" right after the donation link asks for a contact, which the link does not give.
ASKS_FOR_A_CONTACT = re.compile(
    r"^(?!.*\blink\b).*(\b(e-?mail|address|contact|phone|reach)\b|\bwhere (do|can|should) i (write|send|ask)\b|"
    r"\b(other|more|further) questions\b)",
    re.IGNORECASE,
)
# "anything i can read in the meantime?" right after the fundraiser ideas asks for the guide, whatever DIET made of it
# (asking for a person, once): the fundraiser's follow-up
ASKS_FOR_READING = re.compile(r"\b(read|reading|guide|resources?|materials?|handbook|booklet|toolkit|pdf)\b", re.I)
FUNDRAISING = "action_fundraising_ideas"
GIVING = ("action_donate", "action_answer_matching")
# "is my donation tax deductible?", right after the link or on its own, asks what the link does not say: the honest
# answer and the donor contact (contacts.yml routes), not the link again.
ABOUT_A_GIFT = re.compile(
    r"\b(tax|taxes|receipts?|deductible|refunds?|charitable (number|registration|status)|charity (number|status))\b",
    re.IGNORECASE,
)


def last_bot_action(tracker: Tracker) -> str | None:
    """The assistant's last action before the visitor's latest message (None at the start)."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None  # two messages in a row: nothing answered the one before
            seen_user = True
        elif kind == "action" and seen_user and event.get("name") != LISTEN:
            return event.get("name")
    return None


def earlier_user_messages(tracker: Tracker) -> list[dict[str, Any]]:
    """The visitor's messages before the latest one, oldest first."""
    return [event for event in tracker.events if event.get("event") == "user"][:-1]


def asks_for_the_link_again(text: str) -> bool:
    return len(text.split()) <= LINK_AGAIN_WORDS and bool(LINK_AGAIN.search(text))


def link_journey_message(tracker: Tracker) -> tuple[str, dict[str, Any]] | None:
    """The last journey of the conversation that gave a link, and the visitor's message it answered."""
    answered_by: str | None = None
    for event in reversed(tracker.events[:-1] if tracker.events else []):
        kind = event.get("event")
        if kind == "action" and event.get("name") in LINK_JOURNEYS and answered_by is None:
            answered_by = str(event.get("name"))
        elif kind == "user" and answered_by is not None:
            return answered_by, event
    return None


def journey_in_thread(tracker: Tracker) -> str | None:
    """The action answering a follow-up to the journey just answered, when the latest message is short, typed (not
    a button) and names no place, year or event (those are questions about IJM's history); or, for a request for
    the link again, the last journey that gave one."""
    text = (tracker.latest_message.get("text") or "").strip()
    typed = bool(text) and not text.startswith("/")
    if typed and asks_for_the_link_again(text) and (linked := link_journey_message(tracker)) is not None:
        return LINK_JOURNEYS[linked[0]]
    if not typed or any(next(tracker.get_latest_entity_values(name), None) for name in ("place", "year", "event")):
        return None
    journey = last_bot_action(tracker) or ""
    if asks_about_tax_or_receipts(tracker):
        return None
    # asking where to write is one whole request, however long ("and if I have other questions, where do I write?")
    if journey in GIVING and len(text.split()) <= LINK_AGAIN_WORDS and ASKS_FOR_A_CONTACT.search(text):
        return "action_offer_contacts"
    # asking for something to read is one request too ("Lovely, thank you. What was the title of that free guide you
    # mentioned?": its question part)
    question = str(tracker.latest_message.get("question_part") or text)
    if journey == FUNDRAISING and len(question.split()) <= LINK_AGAIN_WORDS and ASKS_FOR_READING.search(question):
        return FUNDRAISING
    if len(text.split()) > JOURNEY_WORDS:
        return None
    return JOURNEYS.get(journey)


def asks_about_tax_or_receipts(tracker: Tracker) -> bool:
    """A question about a gift already made or being made (a tax receipt, a refund), right after the link or on its
    own ("is my donation to ijm canada tax deductible", which DIET reads as wanting to give)."""
    text = tracker.latest_message.get("text") or ""
    return ABOUT_A_GIFT.search(text) is not None


def asks_for_reading_after_the_ideas(tracker: Tracker) -> bool:
    """A short request for something to read right after the fundraiser ideas: their guide."""
    text = tracker.latest_message.get("text") or ""
    return (
        last_bot_action(tracker) == FUNDRAISING
        and len(text.split()) <= JOURNEY_WORDS
        and bool(ASKS_FOR_READING.search(text))
    )


def picks_a_fundraiser_kind(tracker: Tracker) -> bool:
    """A short message right after the fundraiser ideas that names one of their kinds ("i like the birthday one",
    which DIET reads as a question about the 25th anniversary): that kind's tips."""
    text = tracker.latest_message.get("text") or ""
    return (
        last_bot_action(tracker) == FUNDRAISING
        and len(text.split()) <= JOURNEY_WORDS
        and next(tracker.get_latest_entity_values("fundraiser_kind"), None) is not None
    )


def continue_journey(tracker: Tracker) -> list[EventType] | None:
    """The events that hand the message to the journey's follow-up, or None when it is not one."""
    journey = journey_in_thread(tracker)
    return None if journey is None else [FollowupAction(journey)]
