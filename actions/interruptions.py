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
from actions.knowledge import ActionAnswerFact, ActionTellMore
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

# Every intent a form steps aside for; data/rules.yml's interruption rules list the same (a unit test checks).
ANSWERABLE_MID_FORM = frozenset({*ACTIONS_BY_INTENT, *RESPONSES_BY_INTENT, *JOURNEY_INTENTS})


def _journey_replies(intent: str, tracker: Tracker) -> list[Reply]:
    if intent == "fundraise":
        kind = next(iter(tracker.get_latest_entity_values("fundraiser_kind")), None)
        return fundraising_replies(kind, Settings.from_env().public_url, tracker.sender_id, offer=False)
    if intent == "media_enquiry":
        return [media_intro()]
    return contact_replies(offer=False)


class ActionAnswerInterruption(Action):
    def name(self) -> str:
        return "action_answer_interruption"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ACTIONS_BY_INTENT:
            return await ACTIONS_BY_INTENT[intent]().run(dispatcher, tracker, domain)
        if intent in RESPONSES_BY_INTENT:
            dispatcher.utter_message(response=RESPONSES_BY_INTENT[intent])
        elif intent in JOURNEY_INTENTS:
            for reply in _journey_replies(intent, tracker):
                dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return []
