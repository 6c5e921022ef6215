"""`never_silent`: a message Rasa leaves unanswered gets an apology with a contact and the emergency number."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import never_silent as module
from bot.channels.never_silent import LAST_RESORT, never_silent
from bot.content import ContentError


def run(handler) -> list[dict]:
    collector = CollectingOutputChannel()
    asyncio.run(never_silent(handler)(UserMessage("hello", collector, "visitor-1")))
    return collector.messages


def test_an_answered_message_gets_no_apology():
    async def answers(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Hi there!")

    assert [m["text"] for m in run(answers)] == ["Hi there!"]


def test_silence_is_replaced_by_an_apology_with_a_contact_and_the_emergency_number():
    async def says_nothing(message: UserMessage) -> None:
        return None

    [reply] = run(says_nothing)
    assert reply["recipient_id"] == "visitor-1"
    assert "something went wrong" in reply["text"]
    assert "info@ijm.ca" in reply["text"] and "call 911" in reply["text"]
    assert "{" not in reply["text"]


def test_a_failure_still_gets_the_apology_and_is_not_hidden():
    async def fails(message: UserMessage) -> None:
        raise RuntimeError("action server exploded")

    collector = CollectingOutputChannel()
    with pytest.raises(RuntimeError):
        asyncio.run(never_silent(fails)(UserMessage("hello", collector, "visitor-2")))
    assert len(collector.messages) == 1 and "something went wrong" in collector.messages[0]["text"]


def test_broken_content_falls_back_to_a_fixed_apology(monkeypatch):
    def broken():
        raise ContentError("assistant.yml is not valid YAML")

    monkeypatch.setattr(module, "assistant_content", broken)

    async def says_nothing(message: UserMessage) -> None:
        return None

    assert [m["text"] for m in run(says_nothing)] == [LAST_RESORT]


def test_the_channel_name_is_the_wrapped_channels():
    counting = module.CountingOutputChannel(CollectingOutputChannel())
    assert counting.name() == CollectingOutputChannel.name()
