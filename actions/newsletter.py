"""The newsletter ("Stay connected to the work!"): sign-up with recorded explicit consent, and withdrawal."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import SKIPPED, AskAction, JourneyForm, Message, form_values, reset
from actions.records import fallback_contact_fields, origin_of, read, save
from bot.content.supporters import Messages, consent_sentence, newsletter_messages
from bot.supporters.emails import find_email
from bot.supporters.records import is_subscribed, subscribe, unsubscribe

# The consent sentence as it was shown, set when the question is asked and stored with the sign-up.
CONSENT_SHOWN_SLOT = "newsletter_consent_shown"
# The consent slot's value for an address that is signed up already: the form ends without asking, and nothing is
# written (it is never taken for a yes).
ALREADY_SIGNED_UP = "already signed up"


def _email_in(message: Message) -> dict[str, Any]:
    check = find_email(message.text)
    return {} if check.email is None else {"email": check.email}


class ValidateNewsletterForm(JourneyForm):
    form = "newsletter_form"

    def messages(self) -> Messages:
        return newsletter_messages()

    def prefill(self, message: Message, tracker: Tracker) -> dict[str, Any]:
        return {f"newsletter_{k}": v for k, v in _email_in(message).items()}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        """An address that is signed up already ends the form at once ("is already signed up"), without asking for a
        name and consent it does not need."""
        events = await super().run(dispatcher, tracker, domain)
        email = next((e["value"] for e in events if e.get("name") == "newsletter_email" and e.get("value")), None)
        if email and read(lambda engine: is_subscribed(engine, email)):
            done = [SlotSet("newsletter_first_name", SKIPPED), SlotSet("newsletter_consent", ALREADY_SIGNED_UP)]
            return [*events, *done]
        return events


class ValidateUnsubscribeForm(JourneyForm):
    form = "unsubscribe_form"

    def messages(self) -> Messages:
        return newsletter_messages()

    def prefill(self, message: Message, tracker: Tracker) -> dict[str, Any]:
        return {f"unsubscribe_{k}": v for k, v in _email_in(message).items()}


class ActionAskNewsletterConsent(AskAction):
    """Asks for consent and remembers the exact sentence shown, which is what the visitor agrees to."""

    slot = "newsletter_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        await super().run(dispatcher, tracker, domain)
        return [SlotSet(CONSENT_SHOWN_SLOT, consent_sentence())]


class ActionSubmitNewsletter(Action):
    def name(self) -> str:
        return "action_submit_newsletter"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = newsletter_messages()
        values = form_values(tracker, "newsletter_form")
        email, first_name = values["newsletter_email"], values["newsletter_first_name"]
        shown = tracker.get_slot(CONSENT_SHOWN_SLOT)
        forget = [*reset("newsletter_form"), SlotSet(CONSENT_SHOWN_SLOT, None)]
        if values["newsletter_consent"] == ALREADY_SIGNED_UP:
            dispatcher.utter_message(text=message("already_subscribed", email=email))
            return forget
        if values["newsletter_consent"] is not True or not shown:
            dispatcher.utter_message(text=message("declined"))
            return forget
        new = save(
            lambda engine, delivery: subscribe(
                engine,
                email=email,
                first_name=first_name,
                consent_text=shown,
                origin=origin_of(tracker),
                delivery=delivery,
            )
        )
        if new is None:
            dispatcher.utter_message(text=message("save_failed", **fallback_contact_fields()))
        elif new:
            dispatcher.utter_message(
                text=message("subscribed", name=f", {first_name}" if first_name else "", email=email)
            )
        else:
            dispatcher.utter_message(text=message("already_subscribed", email=email))
        return forget


class ActionSubmitUnsubscribe(Action):
    def name(self) -> str:
        return "action_submit_unsubscribe"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message: Messages = newsletter_messages()
        email = form_values(tracker, "unsubscribe_form")["unsubscribe_email"]
        was_subscribed = save(
            lambda engine, delivery: unsubscribe(engine, email=email, origin=origin_of(tracker), delivery=delivery)
        )
        if was_subscribed is None:
            dispatcher.utter_message(text=message("save_failed", **fallback_contact_fields()))
        elif was_subscribed:
            dispatcher.utter_message(text=message("unsubscribed", email=email))
        else:
            dispatcher.utter_message(text=message("unsubscribed_unknown", email=email, **fallback_contact_fields()))
        return reset("unsubscribe_form")
