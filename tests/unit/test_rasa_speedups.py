"""The custom-action answer check without its per-message meta-schema pass (bot/rasa_speedups/action_answers.py)
still accepts and refuses exactly what Rasa's own does, with Rasa's error."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import bot.channels  # noqa: F401 (installs the speed-up, as the Rasa server does when it loads our channels)
from bot import rasa_speedups
from bot.rasa_speedups import action_answers

VALID = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "email", "value": "a@example.org"}], "responses": [{"text": "Hi"}]},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["not an object"]},
    {"events": [{"event": "slot"}]},  # a slot event without its name
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_answer_fact", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_it_is_installed_once_by_loading_our_channels():
    assert rasa_speedups.installed()
    installed = RemoteAction._validate_action_result
    rasa_speedups.install()
    assert RemoteAction._validate_action_result is installed


@pytest.mark.parametrize("result", VALID)
def test_valid_answers_pass(action, result):
    assert action._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_answers_get_rasas_own_error(action, result):
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(result)


def test_the_schema_is_checked_once_not_per_answer(action, monkeypatch):
    calls = []
    validator_class = type(action_answers._action_result_validator())
    monkeypatch.setattr(validator_class, "check_schema", classmethod(lambda cls, schema: calls.append(schema)))
    for result in VALID * 3:
        action._validate_action_result(result)
    assert calls == []


# Answers as our action server gives them, and broken ones, for the item-by-item check against the whole schema's
SAMPLES = (
    VALID
    + INVALID
    + [
        [],
        "text",
        {"events": None},
        {"responses": None, "events": []},
        {"events": [{"event": "slot", "name": "fact_card", "value": "gary_haugen", "timestamp": None}] * 3},
        {"events": [{"event": "followup", "name": "action_listen"}, {"event": "active_loop", "name": None}]},
        {"events": [{"event": "slot", "name": "x", "value": {"nested": [1, 2.5, None]}}]},
        {
            "events": [
                {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": "high"}}}
            ]
        },
        {"responses": [{"text": "Hi", "buttons": [{"title": "Give", "payload": "/donate"}]}, {"text": 5}]},
        {"events": [{"event": "slot", "name": "x", "value": float("nan")}]},
        {"events": [{"event": "slot", "name": "x", "value": b"bytes"}]},
    ]
)


@pytest.mark.parametrize("result", SAMPLES)
def test_the_item_by_item_check_gives_the_whole_schemas_verdict(result):
    whole = action_answers._action_result_validator().is_valid(result)
    assert action_answers.answer_is_valid(result) is whole
    assert action_answers.answer_is_valid(result) is whole  # the second time from the cache of items


def test_each_distinct_item_is_checked_once(monkeypatch):
    action_answers._item_is_valid.cache_clear()
    event = {"event": "slot", "name": "fact_topic", "value": "founder", "timestamp": None}
    for _ in range(5):
        assert action_answers.answer_is_valid({"events": [event, dict(reversed(list(event.items())))]})
    info = action_answers._item_is_valid.cache_info()
    assert (info.misses, info.hits) == (1, 9)
