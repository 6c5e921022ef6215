"""Changing DIET's reading after the fact, the same way in every component that does (bot/nlu/question_guard.py,
address_question.py, request_cues.py): the new intent takes DIET's confidence (or a sure cue's), and DIET's own
first reading goes to the end of the ranking, so that what DIET thought stays visible in the parse data (and in the
console) without winning."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

INTENT_RANKING_KEY = "intent_ranking"


def replace_intent(message: Message, name: str, confidence: float | None = None) -> None:
    """`confidence`: the new intent's, when the component that changes it knows better than DIET (a sure cue)."""
    intent = message.get(INTENT) or {}
    replaced = intent.get(INTENT_NAME_KEY)
    sure = intent.get(PREDICTED_CONFIDENCE_KEY) if confidence is None else confidence
    new = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: sure}
    ranking = message.get(INTENT_RANKING_KEY) or []
    others = [r for r in ranking if r.get(INTENT_NAME_KEY) not in (replaced, name)]
    demoted = [r for r in ranking if r.get(INTENT_NAME_KEY) == replaced]
    message.set(INTENT, new, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [new, *others, *demoted], add_to_output=True)
