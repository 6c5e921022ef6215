"""Work stock Rasa 3.6 repeats on every message for nothing, removed in the Rasa server process (issue #8).

Installed when the Rasa server loads our channels (bot/channels/__init__.py); bench/speed.py measures the effect.

- Each custom action's answer is checked against a JSON schema with `jsonschema.validate`, which first checks the
  (constant) schema against JSON Schema's meta-schema, every time: a third of the server's CPU time per message
  in a profile (py-spy, 10 concurrent conversations). The schema is now checked once and its validator kept;
  an answer that fails still goes through Rasa's own method, so the error and its message are Rasa's.
"""

from __future__ import annotations

import functools
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


def install() -> None:
    """Idempotent."""
    original = RemoteAction._validate_action_result
    if getattr(original, _MARK, False):
        return

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if _action_result_validator().is_valid(result):
            return True
        return original(self, result)  # raises Rasa's ValidationError, with its message

    setattr(validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(RemoteAction._validate_action_result, _MARK, False))
