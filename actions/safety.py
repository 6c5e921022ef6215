"""The safety answer: real help, at once, for anyone who discloses danger or exploitation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.content.safety import safety_answer


class ActionSafetyHelp(Action):
    def name(self) -> str:
        return "action_safety_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answer = safety_answer()
        dispatcher.utter_message(text=answer.message)
        dispatcher.utter_message(text=answer.follow_up)
        return []
