"""`never_silent`: a message Rasa leaves unanswered gets an apology with a contact and the emergency number."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import never_silent as module
from bot.channels.never_silent import LAST_RESORT, never_silent
from bot.content import ContentError
from bot.storage.tracker_store import ConversationStoreUnavailable


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


def test_a_failed_conversation_database_gets_the_apology_and_goes_no_further():
    async def store_down(message: UserMessage) -> None:
        raise ConversationStoreUnavailable("could not read conversation visitor-1")

    [reply] = run(store_down)  # swallowed here: not a 500 from the channel
    assert "something went wrong" in reply["text"]


def test_the_tracker_store_turns_database_errors_into_store_unavailable(tmp_path):
    """Not an Exception: Rasa's FailSafeTrackerStore would answer from a blank history or keep events in memory."""
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.storage.tracker_store import ResilientSQLTrackerStore

    database = tmp_path / "events.db"
    store = ResilientSQLTrackerStore(host=f"sqlite:///{database}")
    failsafe = FailSafeTrackerStore(store)
    asyncio.run(failsafe.save(DialogueStateTracker("visitor-3", [])))
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")
    with pytest.raises(ConversationStoreUnavailable):
        asyncio.run(failsafe.retrieve("visitor-3"))
    with pytest.raises(ConversationStoreUnavailable):
        asyncio.run(failsafe.save(DialogueStateTracker("visitor-3", [])))
    assert not issubclass(ConversationStoreUnavailable, Exception)
