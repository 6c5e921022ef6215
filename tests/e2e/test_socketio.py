"""The socket.io channel, spoken by python-socketio's client exactly as a web widget speaks it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import socketio

from bot.content.assistant import assistant_content

pytestmark = pytest.mark.e2e
WAIT = 60


class WidgetClient:
    """A socket.io connection with a persistent session id, collecting what the bot sends."""

    def __init__(self, url: str, session_id: str) -> None:
        self.url = url
        self.session_id = session_id
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.bot_messages: asyncio.Queue = asyncio.Queue()
        self.client.on("session_confirm", self.confirmed.put_nowait)
        self.client.on("bot_uttered", self.bot_messages.put_nowait)

    async def __aenter__(self) -> WidgetClient:
        await self.client.connect(self.url, socketio_path="/socket.io", wait_timeout=WAIT)
        await self.client.emit("session_request", {"session_id": self.session_id})
        assert await asyncio.wait_for(self.confirmed.get(), WAIT) == self.session_id
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.disconnect()

    async def say(self, text: str) -> dict:
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return await asyncio.wait_for(self.bot_messages.get(), WAIT)


def test_a_session_is_confirmed_and_answered_and_a_second_connection_continues_it(assistant, domain):
    session_id = f"sio-{uuid.uuid4().hex}"

    async def conversation() -> tuple[dict, dict]:
        async with WidgetClient(assistant.rasa_url, session_id) as first:
            greeting = await first.say("hello there")
        async with WidgetClient(assistant.rasa_url, session_id) as second:
            thanks = await second.say("thank you!")
        return greeting, thanks

    greeting, thanks = asyncio.run(conversation())

    assert greeting["text"] == domain["responses"]["utter_greet"][0]["text"]
    assert thanks["text"] == domain["responses"]["utter_you_are_welcome"][0]["text"]
    stored = assistant.events(session_id)
    assert [text for kind, text in stored if kind == "user"] == ["hello there", "thank you!"]
    assert [text for kind, text in stored if kind == "bot"] == [greeting["text"], thanks["text"]]


def test_unusable_messages_get_a_polite_reply_and_the_conversation_goes_on(assistant, domain):
    content = assistant_content()

    async def conversation() -> list[dict]:
        async with WidgetClient(assistant.rasa_url, f"sio-bad-{uuid.uuid4().hex}") as widget:
            return [await widget.say(text) for text in ("", "word " * 5000, "hi")]

    empty, too_long, greeting = asyncio.run(conversation())

    assert empty["text"] == content.message("empty_message")
    assert too_long["text"] == content.message("message_too_long")
    assert greeting["text"] == domain["responses"]["utter_greet"][0]["text"]


def test_only_pages_from_the_allowed_origins_may_connect(assistant):
    async def connect(origin: str) -> bool:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(assistant.rasa_url, headers={"Origin": origin}, wait_timeout=WAIT)
        except socketio.exceptions.ConnectionError:
            return False
        await client.disconnect()
        return True

    assert asyncio.run(connect(assistant.web_url)) is True
    assert asyncio.run(connect("https://evil.example")) is False
