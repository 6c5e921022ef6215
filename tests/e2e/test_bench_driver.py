"""The speed benchmark's visitors (bench/chat_load.py) hold a conversation with the real assistant over both
channels, as `make bench` has them do: so a change to our channels can't silently break the benchmark."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bench.chat_load import SCRIPTS, VISITORS, _check

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("channel", sorted(VISITORS))
def test_a_benchmark_visitor_holds_a_whole_conversation(assistant, channel):
    async def converse() -> list[list[str]]:
        async with aiohttp.ClientSession() as session:
            visitor = VISITORS[channel](assistant.rasa_url, session, assistant.web_url)
            await visitor.start()
            try:
                return [await visitor.say(text) for text in SCRIPTS[0]]
            finally:
                await visitor.stop()

    answers = asyncio.run(converse())
    assert len(answers) == len(SCRIPTS[0])
    assert all(_check(texts) is None for texts in answers), answers
    assert any("1997" in text for text in answers[1]), answers[1]  # "when was IJM founded?"
    assert [_check([]), _check(["Sorry, something went wrong."])] == ["no reply", "apology"]
