"""Giving: the donation link (tracked, with the amount and frequency the visitor named) and matching funds."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.journey_thread import (
    LINK_JOURNEYS,
    asks_about_tax_or_receipts,
    asks_for_the_link_again,
    journey_in_thread,
    last_bot_action,
    link_journey_message,
)
from actions.unknown import honest_reply
from bot.content.contacts import contacts
from bot.content.links import links, tracked_url
from bot.donations.amounts import parse_amount
from bot.donations.content import DonateContent, donate_content
from bot.settings import Settings
from bot.supporters.understanding import looks_like_question

CHANGES_THE_GIFT = re.compile(
    r"\b(make|change|switch|set)\b.{0,15}\b(it|that|this|mine|the gift|my gift)\b|\binstead\b", re.I
)


# The request a cue of config.yml marks "how can I help?" with, as the parse data's `request` (request_cues.py)
REQUEST = "request"
WAYS_TO_HELP = "ways_to_help"


def _today() -> date:
    return date.today()


WANTS_TO_GIVE = re.compile(
    r"\b(i want|i'?d like|i would like|i wanna|let me|can i|could i|how (do|can) i|i'?m going|i plan)\b.{0,25}"
    r"\b(give|donat\w*|contribut\w*)\b",
    re.IGNORECASE,
)


def wants_to_give(tracker: Tracker) -> bool:
    """The message asks to give, or names an amount ("$50, and do I get a tax receipt?" still wants the link)."""
    text = str(tracker.latest_message.get("text") or "")
    return parse_amount(text) is not None or WANTS_TO_GIVE.search(text) is not None


def donor_care_line() -> str:
    """ "IJM Canada's donor care team can help: …" (contacts.yml)."""
    people = contacts()
    return people.line_for(people.get("donor_care"))


def gift_asked(tracker: Tracker) -> tuple[str, str | None]:
    """The text the amount is read from, and the frequency. The latest message's; but when it names no amount and
    asks for the link again, or follows the link straight away ("$40/month" ... "wait is that monthly for sure"),
    the amount (and the frequency, unless it changes it) of the message the last link answered."""
    text = tracker.latest_message.get("text") or ""
    frequency = next(iter(tracker.get_latest_entity_values("frequency")), None)
    follows_the_link = asks_for_the_link_again(text) or last_bot_action(tracker) in LINK_JOURNEYS
    earlier = link_journey_message(tracker) if follows_the_link else None
    if earlier is None or parse_amount(text) is not None:
        return text, frequency
    entities = (earlier[1].get("parse_data") or {}).get("entities") or []
    said = next((e.get("value") for e in entities if e.get("entity") == "frequency"), None)
    # "is that monthly?" asks about the gift made; "make it monthly", "can you make it one time instead" change it
    asks = looks_like_question(text) and not CHANGES_THE_GIFT.search(text)
    return str(earlier[1].get("text") or ""), (said or frequency) if asks else (frequency or said)


def donate_reply(content: DonateContent, tracker: Tracker, public_url: str, today: date) -> list[str]:
    """The messages answering "I want to donate" (and "is my gift matched? I want to give $100"), in order."""
    text, frequency = gift_asked(tracker)
    frequency = frequency if frequency in links()["donate"].frequencies else None
    amount = parse_amount(text, content.largest_amount)

    replies = []
    if content.campaign.running_on(today):
        replies.append(f"{content.campaign.headline} {content.campaign.matched}")
    if amount is not None and amount.problem == "too_large":
        care = contacts().get("donor_care")
        replies.append(content.message("amount_too_large", name=care.name, details=care.details()))
    elif amount is not None and amount.problem == "invalid":
        replies.append(content.message("amount_invalid"))

    usable = amount.plain() if amount is not None and amount.usable else None
    link = tracked_url(public_url, "donate", tracker.sender_id, amount=usable, frequency=frequency)
    details = [content.message("amount", amount=usable)] if usable else []
    if frequency:
        details.append(content.message(frequency))
    if details:
        replies.append(content.message("donate_with_details", details=", ".join(details), link=link))
    else:
        replies.append(content.message("donate", link=link))
    return replies


def send_ways_to_help(dispatcher: CollectingDispatcher, tracker: Tracker, content: DonateContent) -> None:
    """ "How can I help?", "ways to get involved?": the gift first (its link, matched while the campaign runs), then the
    other ways a supporter can act, as buttons (donate.yml `ways_to_help`). Sent by action_donate, so "send me that
    link again" afterwards gets the donation link (journey_thread.LINK_JOURNEYS)."""
    link = tracked_url(Settings.from_env().public_url, "donate", tracker.sender_id)
    matched = f" {content.campaign.matched}" if content.campaign.running_on(_today()) else ""
    dispatcher.utter_message(
        text=content.message("ways_to_help", link=link, matched=matched),
        buttons=[{"title": title, "payload": payload} for title, payload in content.ways_to_help],
    )


class ActionDonate(Action):
    def name(self) -> str:
        return "action_donate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if (
            intent == "donate"
            and tracker.latest_message.get(REQUEST) == WAYS_TO_HELP
            and parse_amount(str(tracker.latest_message.get("text") or "")) is None
        ):
            send_ways_to_help(dispatcher, tracker, donate_content())  # a cue of config.yml: "how can I help?"
            return []
        if intent != "donate" and journey_in_thread(tracker) == "action_offer_contacts":
            return [FollowupAction("action_offer_contacts")]  # "ok and what's the events email" after the link
        about_the_gift = asks_about_tax_or_receipts(tracker)
        if about_the_gift and (intent != "donate" or not wants_to_give(tracker)):
            # "is my donation tax deductible?": not something the link says; the donor care team
            dispatcher.utter_message(text=honest_reply(str(tracker.latest_message.get("text") or "")))
            return []
        settings = Settings.from_env()
        for reply in donate_reply(donate_content(), tracker, settings.public_url, _today()):
            dispatcher.utter_message(text=reply)
        if about_the_gift:  # "I'd like to give $50, do I get a tax receipt?": the link, and who answers that
            dispatcher.utter_message(text=donor_care_line())
        return []


# Questions about the matching campaign itself: its end (the campaign's last day), and who gives it or how much (not
# something the assistant knows: the donor care team).
MATCHING_ENDS = re.compile(
    r"\b(until|till|til) when\b|\bhow long\b|\bwhen (does|do|will|is|are)\b.{0,40}\b(end|over|run out|finish|stop|"
    r"expire|close|done)\b|\b(deadline|last day|end date)\b",
    re.IGNORECASE,
)
MATCHING_SOURCE = re.compile(
    r"\b(who|which (company|companies|donors?|foundation|sponsors?|business))\b.{0,40}\b(match\w*|provid\w*|giv\w*|"
    r"fund\w*|sponsor\w*|pay\w*|behind)\b|\bhow much\b.{0,40}\bmatch|\b(limit|cap|maximum|max|ceiling)\b",
    re.IGNORECASE,
)


def matching_detail_reply(content: DonateContent, text: str, link: str, today: date) -> str | None:
    """The answer to a question about the running campaign's end or its source, or None for any other message."""
    if not content.campaign.running_on(today):
        return None
    if MATCHING_SOURCE.search(text):
        unknown = contacts().unknown_message
        return content.message("matching_details_unknown", unknown=unknown, contact=donor_care_line(), link=link)
    if MATCHING_ENDS.search(text):
        ends = content.campaign.ends
        return content.message("matching_ends", ends=f"{ends:%B} {ends.day}, {ends.year}", link=link)
    return None


class ActionAnswerMatching(Action):
    """ "Is my gift matched?": yes while the campaign runs, with the link (filled in with the amount and frequency
    named: "is my gift matched? i want to give $100"); otherwise say there is none (never a guess)."""

    def name(self) -> str:
        return "action_answer_matching"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        content = donate_content()
        settings = Settings.from_env()
        link = tracked_url(settings.public_url, "donate", tracker.sender_id)
        text = str(tracker.latest_message.get("text") or "")
        if (detail := matching_detail_reply(content, text, link, _today())) is not None:
            dispatcher.utter_message(text=detail)
            return []
        if content.campaign.running_on(_today()):
            for reply in donate_reply(content, tracker, settings.public_url, _today()):
                dispatcher.utter_message(text=reply)
        else:
            dispatcher.utter_message(text=content.message("no_matching", link=link))
        return []
