"""Every custom action, run with rasa_sdk's own Tracker and CollectingDispatcher."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.conversation import (
    ActionCoreFallback,
    ActionFallbackTopics,
    ActionListCapabilities,
    ActionOutOfScopeTopics,
)
from bot.content.assistant import assistant_content


def tracker_after(text: str, intent: str, confidence: float = 0.9) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    return Tracker(
        sender_id="unit-test",
        slots={},
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action: Action, tracker: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


@pytest.mark.parametrize(
    ("action", "intent", "message_key"),
    [
        (ActionListCapabilities(), "ask_capabilities", "capabilities"),
        (ActionFallbackTopics(), "nlu_fallback", "not_understood"),
        (ActionOutOfScopeTopics(), "out_of_scope", "out_of_scope"),
    ],
)
def test_menu_actions_send_their_message_and_every_main_topic(action, intent, message_key):
    content = assistant_content()
    messages, events = run(action, tracker_after("something", intent))

    assert len(messages) == 1
    assert messages[0]["text"] == content.message(message_key)
    assert [(b["title"], b["payload"]) for b in messages[0]["buttons"]] == [
        (t.title, t.payload) for t in content.topics
    ]
    assert events == []


def test_core_fallback_offers_topics_and_reverts_the_message_it_could_not_handle():
    messages, events = run(ActionCoreFallback(), tracker_after("blah", "greet", 0.2))

    assert messages[0]["text"] == assistant_content().message("lost_track")
    assert len(messages[0]["buttons"]) == len(assistant_content().topics)
    assert events == [UserUtteranceReverted()]


def test_every_action_in_the_domain_is_served_by_the_action_server(domain):
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(domain["actions"]) == set(executor.actions)


def test_the_abstract_bases_are_not_registered_as_actions(domain):
    executor = ActionExecutor()
    executor.register_package("actions")
    assert all(name.startswith(("action_", "validate_")) for name in executor.actions)
    assert set(executor.actions) == set(domain["actions"])
