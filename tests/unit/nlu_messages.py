"""A message as an NLU component after DIET sees it: its text, its intent and DIET's ranking."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message


def parsed(text: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": ranking[0][0], "confidence": ranking[0][1]}, add_to_output=True)
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True)
    return message
