"""Rate limits and the message length cap on the running assistant (issue #7), on both channels.

The assistant of this module runs with low limits (3 messages per session, 5 per address, an hour each), a
50-character cap, and 127.0.0.1 as a trusted proxy: each test claims its own client address through
X-Forwarded-For, as a reverse proxy would set it, so the tests' counts stay apart.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest
import requests
import socketio

from bot.content.assistant import assistant_content
from tests.e2e.harness import Assistant

pytestmark = pytest.mark.e2e
WAIT = 60
PER_SESSION = 3
PER_IP = 5
MAX_CHARS = 50
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("limited")
    running = Assistant(
        workdir=workdir,
        database_url=f"sqlite:///{workdir}/ijm.db",
        settings={
            "RATE_LIMIT_PER_SESSION": f"{PER_SESSION}/3600",
            "RATE_LIMIT_PER_IP": f"{PER_IP}/3600",
            "TRUSTED_PROXIES": "127.0.0.1",
            "MAX_MESSAGE_CHARS": str(MAX_CHARS),
        },
    )
    running.start()
    yield running
    running.stop()


def new_address() -> str:
    """A client address no other test uses (TEST-NET-2)."""
    return f"198.51.100.{next(_addresses)}"


def post(assistant: Assistant, sender: str, text: str, address: str) -> requests.Response:
    return requests.post(
        assistant.rest_url,
        json={"sender": sender, "message": text},
        headers={"X-Forwarded-For": address},
        timeout=WAIT,
    )


def user_texts(assistant: Assistant, sender: str) -> list[str | None]:
    return [text for kind, text in assistant.events(sender) if kind == "user"]


class Widget:
    """A socket.io connection as the widget makes it (allowed Origin, session id), from a given address."""

    def __init__(self, assistant: Assistant, session_id: str, address: str) -> None:
        self.assistant = assistant
        self.session_id = session_id
        self.address = address
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.bot_messages: asyncio.Queue = asyncio.Queue()
        self.client.on("session_confirm", self.confirmed.put_nowait)
        self.client.on("bot_uttered", self.bot_messages.put_nowait)

    async def __aenter__(self) -> Widget:
        headers = {"Origin": self.assistant.web_url, "X-Forwarded-For": self.address}
        await self.client.connect(self.assistant.rasa_url, headers=headers, wait_timeout=WAIT)
        await self.client.emit("session_request", {"session_id": self.session_id})
        assert await asyncio.wait_for(self.confirmed.get(), WAIT) == self.session_id
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.disconnect()

    async def say(self, text: str) -> dict:
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return await asyncio.wait_for(self.bot_messages.get(), WAIT)


def test_the_message_after_the_session_limit_gets_429_and_the_polite_text_and_is_not_stored(limited, domain):
    sender, address = f"limit-{uuid.uuid4().hex}", new_address()
    greeting = domain["responses"]["utter_greet"][0]["text"]
    for _ in range(PER_SESSION):
        answer = post(limited, sender, "hi", address)
        assert answer.status_code == 200, answer.text
        assert [r["text"] for r in answer.json()] == [greeting]

    refused = post(limited, sender, "one too many", address)

    assert refused.status_code == 429
    assert refused.json() == [{"recipient_id": sender, "text": assistant_content().message("slow_down")}]
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert user_texts(limited, sender) == ["hi"] * PER_SESSION  # "one too many" never reached Rasa
    # Another conversation, from the same address, is unaffected.
    other = post(limited, f"limit-other-{uuid.uuid4().hex}", "hi", address)
    assert other.status_code == 200
    assert [r["text"] for r in other.json()] == [greeting]


def test_the_address_limit_counts_every_conversation_from_one_address(limited):
    address = new_address()
    senders = [f"ip-{n}-{uuid.uuid4().hex}" for n in range(PER_IP + 1)]
    for sender in senders[:PER_IP]:
        assert post(limited, sender, "hello", address).status_code == 200

    refused = post(limited, senders[-1], "hello", address)

    assert refused.status_code == 429
    assert refused.json()[0]["text"] == assistant_content().message("slow_down")
    assert limited.events(senders[-1]) == []
    # The same conversation from another address goes through: its refused message was not counted against it.
    assert post(limited, senders[-1], "hello", new_address()).status_code == 200
    assert user_texts(limited, senders[-1]) == ["hello"]


def test_socketio_gets_the_polite_reply_when_over_the_limit_and_nothing_is_stored(limited, domain):
    session_id, address = f"sio-limit-{uuid.uuid4().hex}", new_address()

    async def conversation() -> list[dict]:
        async with Widget(limited, session_id, address) as widget:
            return [await widget.say("hi") for _ in range(PER_SESSION + 1)]

    *answers, refused = asyncio.run(conversation())

    assert [a["text"] for a in answers] == [domain["responses"]["utter_greet"][0]["text"]] * PER_SESSION
    assert refused == {"text": assistant_content().message("slow_down")}
    assert user_texts(limited, session_id) == ["hi"] * PER_SESSION


def test_both_channels_count_against_the_same_address_limit(limited):
    address = new_address()
    for n in range(PER_IP):
        assert post(limited, f"mixed-{n}-{uuid.uuid4().hex}", "hello", address).status_code == 200
    session_id = f"sio-mixed-{uuid.uuid4().hex}"

    async def conversation() -> dict:
        async with Widget(limited, session_id, address) as widget:
            return await widget.say("hello")

    assert asyncio.run(conversation()) == {"text": assistant_content().message("slow_down")}
    assert limited.events(session_id) == []


def test_the_message_length_cap_is_the_setting_on_both_channels(limited):
    content = assistant_content()
    longest, too_long = "a" * (MAX_CHARS - 5) + " help", "a" * MAX_CHARS + "!"
    sender = f"cap-{uuid.uuid4().hex}"

    refused = post(limited, sender, too_long, new_address())
    assert refused.status_code == 413
    assert refused.json()["error"] == "message_too_long"
    assert str(MAX_CHARS) in refused.json()["detail"]
    accepted = post(limited, sender, longest, new_address())
    assert accepted.status_code == 200 and accepted.json()
    assert user_texts(limited, sender) == [longest]

    session_id = f"sio-cap-{uuid.uuid4().hex}"

    async def conversation() -> tuple[dict, dict]:
        async with Widget(limited, session_id, new_address()) as widget:
            return await widget.say(too_long), await widget.say(longest)

    refused_reply, answer = asyncio.run(conversation())
    assert refused_reply == {"text": content.message("message_too_long")}
    assert answer["text"] != content.message("message_too_long")
    assert user_texts(limited, session_id) == [longest]


def test_refused_messages_do_not_use_up_the_limit(limited, domain):
    """Empty and overlong messages are refused before the limits: they are not counted."""
    sender, address = f"bad-then-good-{uuid.uuid4().hex}", new_address()
    for _ in range(PER_SESSION + 2):
        assert post(limited, sender, "x" * (MAX_CHARS + 1), address).status_code == 413
        assert post(limited, sender, "  ", address).status_code == 400
    answer = post(limited, sender, "hi", address)
    assert answer.status_code == 200
    assert [r["text"] for r in answer.json()] == [domain["responses"]["utter_greet"][0]["text"]]
