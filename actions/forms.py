"""What every supporter form shares: reading answers, stepping aside for interruptions, asking, cancelling.

A form (domain.yml `forms`) asks for its slots in order. After each visitor message Rasa calls the form's
`validate_<form>` action, a subclass of JourneyForm here, which either fills the requested slot (valid or, with
the reason said, None so the question is asked again), or returns nothing: Rasa then "rejects" the form for
this turn and a rule in data/rules.yml handles the message (an answer, then back to the form; or the way out).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.interruptions import ANSWERABLE_MID_FORM
from bot.content.assistant import assistant_content
from bot.content.contacts import contacts
from bot.content.supporters import Messages, enquiry_messages, prompt_for
from bot.settings import Settings
from bot.supporters.emails import find_email
from bot.supporters.understanding import (
    MAX_SHORT_ANSWER_CHARS,
    Message,
    asks_about_privacy,
    clean_name,
    clean_text,
    is_interruption,
    reads_consent,
    wants_to_skip,
)

REQUESTED_SLOT = "requested_slot"
# The value of an optional slot the visitor chose to skip (a form only moves on from a slot that is not None).
SKIPPED = "-"

# How each form slot is read (JourneyForm.read).
EMAIL, NAME, OPTIONAL_NAME, SHORT, OPEN, CONSENT, FUNDRAISER_KIND = (
    "email",
    "name",
    "optional name",
    "short",
    "open",
    "consent",
    "fundraiser kind",
)

# Every form's slots, in the order asked. domain.yml lists the same (a unit test keeps them in step).
FORM_SLOTS: dict[str, dict[str, str]] = {
    "newsletter_form": {
        "newsletter_email": EMAIL,
        "newsletter_first_name": OPTIONAL_NAME,
        "newsletter_consent": CONSENT,
    },
    "unsubscribe_form": {"unsubscribe_email": EMAIL},
    "fundraiser_form": {
        "lead_name": NAME,
        "lead_email": EMAIL,
        "lead_event_kind": FUNDRAISER_KIND,
        "lead_event_date": SHORT,
    },
    "media_form": {
        "media_name": NAME,
        "media_email": EMAIL,
        "media_outlet": SHORT,
        "media_deadline": SHORT,
        "media_question": OPEN,
    },
    "message_form": {"message_name": NAME, "message_email": EMAIL, "message_text": OPEN},
}
ALL_FORM_SLOTS = tuple(slot for slots in FORM_SLOTS.values() for slot in slots)


def latest_message(tracker: Tracker) -> Message:
    intent = tracker.latest_message.get("intent") or {}
    return Message(
        text=str(tracker.latest_message.get("text") or ""),
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
    )


def form_values(tracker: Tracker, form: str) -> dict[str, Any]:
    """The form's answers, with a skipped optional answer as None."""
    values = {slot: tracker.get_slot(slot) for slot in FORM_SLOTS[form]}
    return {slot: (None if value == SKIPPED else value) for slot, value in values.items()}


def reset(form: str | None = None) -> list[EventType]:
    """Forget a form's answers (all forms' when `form` is None), so a later form starts afresh."""
    slots = FORM_SLOTS[form] if form else ALL_FORM_SLOTS
    return [SlotSet(slot, None) for slot in slots]


class JourneyForm(Action, ABC):
    """The `validate_<form>` action of one form."""

    form: ClassVar[str]

    def name(self) -> str:
        return f"validate_{self.form}"

    @abstractmethod
    def messages(self) -> Messages:
        """Where this form's `invalid_email` (with {reason}), `invalid_name`/`invalid_text` messages live."""

    def prefill(self, message: Message, tracker: Tracker) -> dict[str, Any]:
        """Answers found in the message that started the form (e.g. an address in "unsubscribe bob@x.ca")."""
        return {}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        slots = FORM_SLOTS[self.form]
        message = latest_message(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested is None:
            return [SlotSet(slot, value) for slot, value in self.prefill(message, tracker).items()]
        if requested not in slots:
            return []
        # "skip" reads as `stop` to the model; answering the optional question with it is not leaving the form.
        if slots[requested] == OPTIONAL_NAME and wants_to_skip(message):
            return [SlotSet(requested, SKIPPED)]
        kind = slots[requested]
        if (changed := self.changed_address(message, tracker, requested)) is not None:
            dispatcher.utter_message(text=self.messages()("email_changed", email=changed[1]))
            return [SlotSet(changed[0], changed[1]), SlotSet(requested, None)]  # and the question again
        if kind != OPEN and asks_about_privacy(message.text):
            people = contacts()
            contact = people.line_for(people.get(people.default_route))
            dispatcher.utter_message(text=assistant_content().message("privacy_in_form").format(contact=contact))
            return [SlotSet(requested, None)]  # the form asks its question again
        if is_interruption(
            message, ANSWERABLE_MID_FORM, open_text=kind == OPEN, expects_address=kind == EMAIL,
            expects_yes_no=kind == CONSENT, expects_name=kind in (NAME, OPTIONAL_NAME),
        ):  # fmt: skip
            return []
        return [SlotSet(requested, self.read(kind, message, tracker, dispatcher))]

    def changed_address(self, message: Message, tracker: Tracker, requested: str) -> tuple[str, str] | None:
        """ "oops wrong email, it's dtremblay@gmail.com" at a later question: the form's e-mail slot and the new
        address, which replaces the one given before (not in a free-text answer, where an address is its content)."""
        slots = FORM_SLOTS[self.form]
        email_slot = next((slot for slot, kind in slots.items() if kind == EMAIL), None)
        if email_slot is None or requested == email_slot or slots[requested] == OPEN:
            return None
        given, found = tracker.get_slot(email_slot), find_email(message.text).email
        return (email_slot, found) if given and found and found != given else None

    def read(self, kind: str, message: Message, tracker: Tracker, dispatcher: CollectingDispatcher) -> Any:
        """The slot's value from the visitor's answer, or None after saying why it can't be used."""
        messages = self.messages()
        if kind == CONSENT:
            consent = reads_consent(message)
            if consent is None:
                dispatcher.utter_message(text=messages("consent_unclear"))
            return consent
        if kind == EMAIL:
            check = find_email(message.text)
            if check.email is None:
                dispatcher.utter_message(text=messages("invalid_email", reason=check.reason))
            return check.email
        if kind in (NAME, OPTIONAL_NAME):
            name = clean_name(message.text)
            if name is None:
                dispatcher.utter_message(text=messages("invalid_name"))
            return name
        if kind == FUNDRAISER_KIND:
            kind_key = next(iter(tracker.get_latest_entity_values("fundraiser_kind")), None)
            if kind_key:
                return kind_key
        limit = Settings.from_env().max_message_chars if kind == OPEN else MAX_SHORT_ANSWER_CHARS
        text = clean_text(message.text, limit=limit)
        if text is None:
            dispatcher.utter_message(text=messages("invalid_text"))
        return text


class AskAction(Action, ABC):
    """`action_ask_<slot>`: a form's question, from the journey's content file (one class per slot below)."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for (a class attribute in each subclass)."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        prompt = prompt_for(self.slot)
        dispatcher.utter_message(text=prompt.text, buttons=list(prompt.buttons))
        return []


# Slots whose question needs more than the text: their ask action is written out in the journey's module.
CUSTOM_ASKS = {"newsletter_consent"}
# One ask action per other form slot; rasa_sdk registers every Action subclass it finds.
ASK_ACTIONS = {
    slot: type(f"ActionAsk_{slot}", (AskAction,), {"slot": slot, "__module__": __name__})
    for slot in ALL_FORM_SLOTS
    if slot not in CUSTOM_ASKS
}


class ActionFormCancelled(Action):
    """After "never mind" / "stop" in a form: say nothing was saved, and forget the answers."""

    def name(self) -> str:
        return "action_form_cancelled"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=enquiry_messages()("cancelled"))
        return reset()


class ActionForgetFormAnswers(Action):
    """After the safety answer interrupted a form: forget its answers silently (the safety answer stands alone)."""

    def name(self) -> str:
        return "action_forget_form_answers"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return reset()
