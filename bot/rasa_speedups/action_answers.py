"""The custom action's answer checked against Rasa's JSON schema without repeating the schema's own check (issue #8).

- Each custom action's answer is checked against a JSON schema with `jsonschema.validate`, which first checks the
  (constant) schema against JSON Schema's meta-schema, every time: a third of the server's CPU time per message
  in a profile (py-spy, 10 concurrent conversations). The schema is now checked once and its validator kept;
  an answer that fails still goes through Rasa's own method, so the error and its message are Rasa's.
- Even so, checking one event against the schema's `oneOf` of some thirty event kinds costs about 0.25 ms, and
  the same events come back again and again (`fact_card` set to a card, the form's slots). The schema is an object
  whose `events` and `responses` are arrays of items, so an answer is valid exactly when it is an object and each
  item is valid: each distinct item is checked once (an LRU of its canonical JSON) and the answer's shape directly.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

_MARK = "_ijm_schema_checked_once"


@functools.cache
def _action_result_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


# Items that repeat (a card's slot events, the forms' slots) stay near the recent end; many others are seen once (a
# reply's tracked link carries its conversation's id), so a small cache keeps the hits and bounds the memory.
ITEM_CACHE_SIZE = 512


@functools.cache
def _item_validators() -> dict[str, Validator]:
    """A validator per array of the answer (`events`, `responses`), for one item, under the same meta-schema."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    return {name: cls(spec["items"]) for name, spec in schema["properties"].items()}


@functools.lru_cache(maxsize=ITEM_CACHE_SIZE)
def _item_is_valid(array: str, canonical: str) -> bool:
    return _item_validators()[array].is_valid(json.loads(canonical))


def answer_is_valid(result: Any) -> bool:
    """The same verdict as the whole schema's validator (a test compares them), each distinct item checked once."""
    if not isinstance(result, dict):
        return False
    for array in _item_validators():
        items = result.get(array)
        if items is None and array not in result:
            continue
        if not isinstance(items, list):
            return False
        for item in items:
            try:
                canonical = json.dumps(item, sort_keys=True, allow_nan=False)
            except (TypeError, ValueError):  # not JSON: let the whole schema's validator decide
                return _action_result_validator().is_valid(result)
            if not _item_is_valid(array, canonical):
                return False
    return True


def install() -> None:
    """Idempotent."""
    original = RemoteAction._validate_action_result
    if getattr(original, _MARK, False):
        return

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if answer_is_valid(result):
            return True
        return original(self, result)  # raises Rasa's ValidationError, with its message

    setattr(validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(RemoteAction._validate_action_result, _MARK, False))
