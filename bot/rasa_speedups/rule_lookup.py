"""The RulePolicy looks only at the rules whose last step fits the conversation's last state.

Stock Rasa 3.6's `RulePolicy._get_possible_keys` tests every memorised rule (578 in this project's model, 140 more
for forms' unhappy paths) against the conversation's last state, then the survivors against each earlier state,
walking back through the whole conversation even when no rule is that long: the largest single cost in the Rasa
server per message in a profile (12% of its CPU, py-spy, fact questions, 2026-12-07), and it grows with every
rule. A rule's last step names the action before it and usually the intent; the rules are indexed by those two
once, so only the rules that can fit are tested, with Rasa's own test (`_is_rule_applicable`), and the walk back
stops once it is older than the longest rule still standing. The answer is the same set of rules (a test
compares it with the stock method on the project's model).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

_MARK = "_ijm_rule_index"
_original = RulePolicy._get_possible_keys

State = dict[str, dict[str, Any]]


def _named(state: State, sub_state: str, key: str) -> str | None:
    """The value a rule step requires (or a conversation state holds), when it is a plain name."""
    value = (state.get(sub_state) or {}).get(key)
    return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else None


@dataclass(frozen=True)
class RuleIndex:
    keys: tuple[str, ...]
    by_last_step: dict[tuple[str, str | None], tuple[str, ...]]
    unindexed: tuple[str, ...]  # no plain action name in their last step: tested every time
    lengths: dict[str, int]

    @classmethod
    def of(cls, lookup: dict[str, Any]) -> RuleIndex:
        grouped: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        unindexed, lengths = [], {}
        for key in lookup:
            states = RulePolicy._rule_key_to_state(key)
            lengths[key] = len(states)
            action = _named(states[-1], PREVIOUS_ACTION, ACTION_NAME) if states else None
            if action is None:
                unindexed.append(key)
            else:
                grouped[(action, _named(states[-1], USER, INTENT))].append(key)
        by_last_step = {step: tuple(keys) for step, keys in grouped.items()}
        return cls(tuple(lookup), by_last_step, tuple(unindexed), lengths)

    def candidates(self, state: State) -> list[str]:
        """Every rule that can fit `state` as its last step (and some that cannot: Rasa's test decides)."""
        action = _named(state, PREVIOUS_ACTION, ACTION_NAME)
        if action is None:
            return list(self.unindexed)
        intent = _named(state, USER, INTENT)
        found = list(self.unindexed) + list(self.by_last_step.get((action, None), ()))
        if intent is not None:
            found += self.by_last_step.get((action, intent), ())
        return found


def index_for(policy: RulePolicy, lookup: dict[str, Any]) -> RuleIndex:
    """The policy's index of `lookup`, rebuilt if the lookup's rules have changed (as during training)."""
    indexes: dict[int, RuleIndex] = policy.__dict__.setdefault(_MARK, {})
    index = indexes.get(id(lookup))
    if index is None or index.keys != tuple(lookup):
        index = indexes[id(lookup)] = RuleIndex.of(lookup)
    return index


def get_possible_keys(self: RulePolicy, lookup: dict[str, Any], states: list[State]) -> set[str]:
    """`RulePolicy._get_possible_keys`: the same rules, testing only those that can fit."""
    if not states:
        return set(lookup)
    index = index_for(self, lookup)
    last = states[-1]
    possible = {key for key in index.candidates(last) if self._is_rule_applicable(key, 0, last)}
    for turn, state in enumerate(reversed(states[:-1]), start=1):
        # A rule no longer than `turn` steps stays applicable from here on (Rasa's own test says so).
        if not possible or turn >= max(index.lengths[key] for key in possible):
            break
        possible = {key for key in possible if self._is_rule_applicable(key, turn, state)}
    return possible


setattr(get_possible_keys, _MARK, True)


def install() -> None:
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(RulePolicy._get_possible_keys, _MARK, False))
