"""`python -m bot.validate`: Rasa's `rasa data validate --fail-on-warnings`, knowing our retrieval intents.

Rasa adds an action `utter_<intent>` for every retrieval intent and warns that no story or rule uses it. Ours
are never uttered by Rasa: action_answer_fact answers a card and action_safety_help a safety follow-up, from
bot/content/ (bot/nlu/card_responses.py). Every other check, and every other warning, is Rasa's own.
"""

from __future__ import annotations

import sys

from rasa.shared.constants import UTTER_PREFIX
from rasa.validator import Validator


class ProjectValidator(Validator):
    def _gather_utterance_actions(self) -> set[str]:
        answered_by_our_actions = {f"{UTTER_PREFIX}{intent}" for intent in self.intents.retrieval_intents}
        return super()._gather_utterance_actions() - answered_by_our_actions


def main() -> int:
    import rasa.cli.utils
    from rasa.shared.importers.importer import TrainingDataImporter

    rasa.cli.utils.Validator = ProjectValidator  # validate_files imports it from rasa.validator at call time
    import rasa.validator

    rasa.validator.Validator = ProjectValidator
    importer = TrainingDataImporter.load_from_config("config.yml", "domain.yml", ["data"])
    rasa.cli.utils.validate_files(fail_on_warnings=True, max_history=None, importer=importer)
    print("Project validation passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
