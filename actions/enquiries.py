"""Media enquiries, and reaching a person (there is no live chat: the right contacts, or a message taken)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import JourneyForm, form_values, reset
from actions.journey_thread import asks_for_reading_after_the_ideas, last_bot_action
from actions.records import submit_enquiry
from bot.content.contacts import contacts
from bot.content.supporters import Messages, enquiry_messages
from bot.supporters.replies import contact_replies, media_intro


class ActionMediaIntro(Action):
    """A journalist's first message: the media contact, then the form takes their details."""

    def name(self) -> str:
        return "action_media_intro"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=media_intro().text)
        return reset("media_form")


class ValidateMediaForm(JourneyForm):
    form = "media_form"

    def messages(self) -> Messages:
        return enquiry_messages()


class ActionSubmitMedia(Action):
    def name(self) -> str:
        return "action_submit_media"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        values = form_values(tracker, "media_form")
        submit_enquiry(
            dispatcher,
            tracker,
            kind="media",
            team=contacts().get("media"),
            name=values["media_name"],
            email=values["media_email"],
            details={key: str(values[f"media_{key}"]) for key in ("outlet", "deadline", "question")},
            thank_you=enquiry_messages("media")("thank_you", name=values["media_name"]),
        )
        return reset("media_form")


# "leave a message", "yes, I'd like to leave a message", "can you take a message": the offer's button typed, which
# DIET reads as asking for a person again.
TAKES_THE_OFFER = re.compile(r"\b(leave|take|send|write|pass on|pass along|give)\b.{0,25}\bmessage\b", re.IGNORECASE)


# "can i leave a message for the team": asking for the message form itself, before any offer.
LEAVE_A_MESSAGE = re.compile(r"\b(leave|send|pass on|pass along)\s+(a|my|them a|you a)\s+message\b", re.IGNORECASE)


def takes_the_offer(tracker: Tracker) -> bool:
    """The visitor asks to leave a message, or the offer to take one was just made and their words take it."""
    text = str(tracker.latest_message.get("text") or "")
    if LEAVE_A_MESSAGE.search(text):
        return True
    if last_bot_action(tracker) != "action_offer_contacts":
        return False
    return enquiry_messages("person")("offer_yes").casefold() in text.casefold() or bool(TAKES_THE_OFFER.search(text))


class ActionOfferContacts(Action):
    """ "Can I talk to a person?": the teams' contacts, and the offer to take a message; right after the offer, the
    offer's own words typed ("leave a message") take it. (A rule on the intent could not tell "leave a message" from
    "what's the email?", which also reads as asking for a person and wants the contacts again.)"""

    def name(self) -> str:
        return "action_offer_contacts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if takes_the_offer(tracker):
            return [*reset("message_form"), FollowupAction("message_form")]
        if asks_for_reading_after_the_ideas(tracker):
            return [FollowupAction("action_fundraising_ideas")]  # "anything i can read in the meantime?"
        for reply in contact_replies():
            dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return reset("message_form")


class ActionDeclineMessage(Action):
    def name(self) -> str:
        return "action_decline_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=enquiry_messages("person")("declined_offer"))
        return []


class ValidateMessageForm(JourneyForm):
    form = "message_form"

    def messages(self) -> Messages:
        return enquiry_messages()


class ActionSubmitMessage(Action):
    """The message goes to the team its words point to (contacts.yml routes), else the general team."""

    def name(self) -> str:
        return "action_submit_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        values = form_values(tracker, "message_form")
        team = contacts().route_for(str(values["message_text"]))
        submit_enquiry(
            dispatcher,
            tracker,
            kind="message",
            team=team,
            name=values["message_name"],
            email=values["message_email"],
            details={"message": str(values["message_text"])},
            thank_you=enquiry_messages("person")(
                "thank_you", name=values["message_name"], team=team.name, email=values["message_email"]
            ),
        )
        return reset("message_form")
