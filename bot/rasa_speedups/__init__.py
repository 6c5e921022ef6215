"""Work stock Rasa 3.6 repeats on every message for nothing, removed in the Rasa server process.

Installed when the Rasa server loads our channels (bot/channels/__init__.py); `bench/models.py` and
`bench/speed.py` measure the effect. Each module patches one thing and keeps Rasa's answer exactly (its tests
compare the patched and the original on the project's own model):

- `action_answers`: a custom action's answer is checked against Rasa's schema without re-checking the schema
  (issue #8).
- `graph_runs`: the part of the model's graph a message needs is worked out once per target list, not per message.
- `rule_lookup`: the RulePolicy looks only at rules whose last step fits the conversation's last state.
- `event_classes`: an event's class is found by its type name in a table, not by walking Event's subclasses.
"""

from __future__ import annotations

from bot.rasa_speedups import action_answers, event_classes, graph_runs, rule_lookup

_PATCHES = (action_answers, graph_runs, rule_lookup, event_classes)

__all__ = ["_action_result_validator", "answer_is_valid", "install", "installed"]


def install() -> None:
    """Idempotent."""
    for patch in _PATCHES:
        patch.install()


def installed() -> bool:
    return all(patch.installed() for patch in _PATCHES)
