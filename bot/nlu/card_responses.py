"""A training-data importer that gives every retrieval intent the response Rasa requires of it.

The cards (`<topic intent>/<card>`) and the questions after the safety answer (`safety_followup/<key>`) are
retrieval intents, and Rasa wants a response `utter_<intent>/<key>` for each. Their texts live in
bot/content/ and are sent by our actions, never by Rasa, so the responses here are only labels (the card's title,
the follow-up's key), made from the content files when the data is loaded: nothing to keep in step by hand. A
card without training examples, or examples of a card that does not exist, still fail `rasa data validate`.

Used by config.yml (`importers:`) next to Rasa's own RasaFileImporter.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.training_data import TrainingData

FOLLOW_UP_INTENT = "safety_followup"


def retrieval_responses() -> dict[str, list[dict[str, str]]]:
    from bot.content import load
    from bot.content.facts import facts

    content = facts()
    responses = {f"utter_{content.label(card)}": [{"text": card.title}] for card in content.cards.values()}
    for key in load("safety")["follow_ups"]:
        if key != "other":
            responses[f"utter_{FOLLOW_UP_INTENT}/{key}"] = [{"text": f"(safety follow-up: {key})"}]
    return responses


class CardResponsesImporter(TrainingDataImporter):
    def __init__(self, config_file: str | None = None, domain_path: str | None = None,
                 training_data_paths: Any = None, **kwargs: Any) -> None:  # fmt: skip
        self.config_file = config_file

    def get_domain(self) -> Domain:
        return Domain.empty()

    def get_stories(self, exclusion_percentage: int | None = None) -> StoryGraph:
        return StoryGraph([])

    def get_conversation_tests(self) -> StoryGraph:
        return StoryGraph([])

    def get_config(self) -> dict:
        return {}

    def get_config_file_for_auto_config(self) -> str | None:
        return self.config_file

    def get_nlu_data(self, language: str | None = "en") -> TrainingData:
        return TrainingData(responses=retrieval_responses())
