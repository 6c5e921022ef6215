"""Questions asked in the middle of a form: answered, then the form asks its question again.

When a form steps aside for a message (actions/forms.py), one rule per form in data/rules.yml runs
`action_answer_interruption` and then the form again. This action answers the message as the assistant would
outside the form, by its intent, except that nothing here starts another form.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionListCapabilities, ActionOutOfScopeTopics
from actions.donate import ActionAnswerMatching, ActionDonate
from actions.journey_thread import JOURNEY_WORDS
from actions.knowledge import WEAK_SCORE, ActionAnswerFact, ActionTellMore, card_verdict
from actions.safety import ActionReportInfo
from actions.unknown import ActionAnswerRequest, ActionAnswerUnknownFact
from bot.settings import Settings
from bot.supporters.replies import Reply, contact_replies, fundraising_replies, media_intro

KNOWLEDGE_INTENTS = (
    "ask_history_overview",
    "ask_founding",
    "ask_founder",
    "ask_mission",
    "ask_violence_types",
    "ask_impact",
    "ask_media_coverage",
    "ask_field_offices",
    "ask_event",
    "ask_covid",
    "ask_anniversary",
)
ACTIONS_BY_INTENT: dict[str, type[Action]] = {
    **{intent: ActionAnswerFact for intent in KNOWLEDGE_INTENTS},
    "ask_more": ActionTellMore,
    "ask_followup": ActionAnswerFact,
    "ask_where_to_report": ActionReportInfo,
    "ask_ijm_unknown": ActionAnswerUnknownFact,
    "ask_partnership": ActionAnswerRequest,
    "ask_volunteer": ActionAnswerRequest,
    "ask_capabilities": ActionListCapabilities,
    "out_of_scope": ActionOutOfScopeTopics,
    "donate": ActionDonate,
    "ask_matching": ActionAnswerMatching,
}
RESPONSES_BY_INTENT = {"greet": "utter_greet", "thank": "utter_you_are_welcome", "bot_challenge": "utter_iamabot"}
JOURNEY_INTENTS = ("fundraise", "media_enquiry", "talk_to_person")

# The journey a form belongs to: a short question in the middle of it that no card answers ("wait what's the free
# guide called?" while the fundraiser form asks for a name) is about that journey.
FORM_JOURNEYS = {"fundraiser_form": "fundraise", "media_form": "media_enquiry", "message_form": "talk_to_person"}
VAGUE_INTENTS = frozenset({"ask_followup", "ask_ijm_unknown", "out_of_scope"})

# Every intent a form steps aside for; data/rules.yml's interruption rules list the same (a unit test checks).
ANSWERABLE_MID_FORM = frozenset({*ACTIONS_BY_INTENT, *RESPONSES_BY_INTENT, *JOURNEY_INTENTS})


def _journey_replies(intent: str, tracker: Tracker, follow_up: bool = False) -> list[Reply]:
    if intent == "fundraise":
        kind = next(iter(tracker.get_latest_entity_values("fundraiser_kind")), None)
        url = Settings.from_env().public_url
        return fundraising_replies(kind, url, tracker.sender_id, offer=False, ideas=not follow_up)
    if intent == "media_enquiry":
        return [media_intro()]
    return contact_replies(offer=False)


def form_journey_follow_up(tracker: Tracker, intent: str | None) -> str | None:
    """The journey of the active form, when the message is a short vague question that no card answers surely."""
    journey = FORM_JOURNEYS.get((tracker.active_loop or {}).get("name") or "")
    text = str(tracker.latest_message.get("text") or "")
    if journey is None or intent not in VAGUE_INTENTS or len(text.split()) > JOURNEY_WORDS:
        return None
    verdict = card_verdict(tracker)
    sure = not verdict.get("unsure", True) and float(verdict.get("score") or 0) >= WEAK_SCORE
    return None if sure else journey


class ActionAnswerInterruption(Action):
    def name(self) -> str:
        return "action_answer_interruption"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if (journey := form_journey_follow_up(tracker, intent)) is not None:
            for reply in _journey_replies(journey, tracker, follow_up=True):
                dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
            return []
        if intent in ACTIONS_BY_INTENT:
            return await ACTIONS_BY_INTENT[intent]().run(dispatcher, tracker, domain)
        if intent in RESPONSES_BY_INTENT:
            dispatcher.utter_message(response=RESPONSES_BY_INTENT[intent])
        elif intent in JOURNEY_INTENTS:
            for reply in _journey_replies(intent, tracker):
                dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return []
