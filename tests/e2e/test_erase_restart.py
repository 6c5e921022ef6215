"""Erasing a conversation with the real servers: the visitor who writes again with the same id starts afresh.

The console's erasure (DELETE /api/conversations/<id>, bot/console/erase.py) deletes the conversation's rows in
Rasa's `events` table and relies on Rasa's SQL tracker store then giving the same sender a brand-new tracker: no
form half filled in, no slot, no old message. Here a visitor (REST, then the widget's socket.io with its session
id kept as the browser keeps it) leaves such state behind, an admin erases it through the API, and the same id
writes again. The widget's 👍 / 👎 on an answer still on screen from the erased conversation is refused.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
import requests
import socketio
import sqlalchemy as sa

from bot.console.accounts import add_staff, issue_token
from bot.content.supporters import prompt_for

pytestmark = pytest.mark.e2e
WAIT = 60


def stored_events(assistant, sender: str) -> list[tuple[int, str, str | None, dict]]:
    """(id, type, action name, data) of each row of Rasa's `events` table for `sender`, in order."""
    rows = assistant.query(
        "SELECT id, type_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id", s=sender
    )
    return [(row.id, row.type_name, row.action_name, json.loads(row.data)) for row in rows]


def feedback_rows(assistant, conversation_id: str) -> list:
    return assistant.query("SELECT rating, message_text FROM feedback WHERE conversation_id = :c", c=conversation_id)


def send_feedback(assistant, conversation_id: str, text: str) -> requests.Response:
    return requests.post(
        assistant.web_url + "/api/feedback",
        json={"conversation_id": conversation_id, "rating": "up", "message_text": text},
        timeout=WAIT,
    )


@pytest.fixture(scope="module")
def admin(assistant) -> dict[str, str]:
    """An admin's API token, made as `ijm-bot staff add` and `ijm-bot staff token` make them."""
    engine = sa.create_engine(assistant.database_url)
    try:
        name = f"eraser-{uuid.uuid4().hex[:8]}"
        add_staff(engine, name, "admin", "a long enough password")
        return {"Authorization": f"Bearer {issue_token(engine, name)}"}
    finally:
        engine.dispose()


def erase(assistant, admin: dict[str, str], conversation_id: str) -> dict:
    erased = requests.delete(f"{assistant.web_url}/api/conversations/{conversation_id}", headers=admin, timeout=WAIT)
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"] == conversation_id
    return erased.json()["deleted"]


def everything_stored(assistant, conversation_id: str) -> str:
    """The conversation's events as one text, to look for old words and values anywhere in them."""
    return json.dumps([data for _, _, _, data in stored_events(assistant, conversation_id)])


def check_starts_afresh(assistant, admin, sender: str, reply: list[str], erased_at: float, old: list[str], domain):
    """After erasure the same sender wrote "hello there" and got `reply`: a new conversation in every respect."""
    # (a) The answer to a new conversation's greeting, not the form going on with its next question.
    assert reply == [domain["responses"]["utter_greet"][0]["text"]]
    assert prompt_for("newsletter_first_name").text not in reply
    # (b) Only new events (timed after the erasure; SQLite may give them the erased rows' ids again), starting
    # with a new session, and none of the old texts or slot values.
    events = stored_events(assistant, sender)
    assert events and all(data["timestamp"] >= erased_at for _, _, _, data in events)
    assert events[0][2] == "action_session_start"
    assert [data.get("text") for _, kind, _, data in events if kind == "user"] == ["hello there"]
    assert not [data for _, kind, name, data in events if kind == "slot" and name.startswith("newsletter_")]
    assert not [data for _, kind, _, data in events if kind == "active_loop" and data.get("name")]
    stored = everything_stored(assistant, sender)
    for value in old:
        assert value not in stored
    # (c) The console's transcript shows only the new messages.
    transcript = requests.get(f"{assistant.web_url}/api/conversations/{sender}", headers=admin, timeout=WAIT)
    assert transcript.status_code == 200, transcript.text
    turns = [turn for turn in transcript.json()["turns"] if turn["text"] is not None]
    assert [turn["text"] for turn in turns] == ["hello there"]
    assert [text for turn in turns for text in turn["replies"]] == reply
    for value in old:
        assert value not in transcript.text


def test_an_erased_rest_conversation_starts_afresh_when_the_visitor_writes_again(assistant, admin, domain):
    sender = f"erase-rest-{uuid.uuid4().hex}"
    memorable = f"Zephyrine Quillfeather {uuid.uuid4().hex[:6]}"
    email = f"zephyrine-{uuid.uuid4().hex[:8]}@example.org"

    def says(message: str) -> list[str]:
        answer = requests.post(assistant.rest_url, json={"sender": sender, "message": message}, timeout=WAIT)
        assert answer.status_code == 200, answer.text
        return [r.get("text", "") for r in answer.json()]

    says(f"hi, I'm {memorable}")
    assert says("I'd like to sign up for your newsletter")[-1] == prompt_for("newsletter_email").text
    answer = says(email)
    assert answer[-1] == prompt_for("newsletter_first_name").text  # the form waits for the next field
    before = stored_events(assistant, sender)
    assert any(kind == "slot" and data.get("value") == email for _, kind, _, data in before)
    assert memorable in everything_stored(assistant, sender)
    assert send_feedback(assistant, sender, answer[-1]).status_code == 201  # 👍 while it exists: stored

    deleted = erase(assistant, admin, sender)
    erased_at = time.time()

    assert deleted["events"] == len(before) and deleted["feedback"] == 1
    assert stored_events(assistant, sender) == []
    gone = requests.get(f"{assistant.web_url}/api/conversations/{sender}", headers=admin, timeout=WAIT)
    assert gone.status_code == 404
    # The widget may still show an old answer: its 👍 is refused, and nothing is tied to the erased id again.
    refused = send_feedback(assistant, sender, answer[-1])
    assert (refused.status_code, refused.json()["error"]) == (404, "unknown_conversation")
    assert feedback_rows(assistant, sender) == []

    reply = says("hello there")

    check_starts_afresh(assistant, admin, sender, reply, erased_at, [memorable, email], domain)


class Widget:
    """The widget's socket.io connection, with the session id it keeps in the browser's sessionStorage."""

    def __init__(self, assistant, session_id: str) -> None:
        self.assistant = assistant
        self.session_id = session_id
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.messages: asyncio.Queue = asyncio.Queue()
        self.client.on("session_confirm", self.confirmed.put_nowait)
        self.client.on("bot_uttered", self.messages.put_nowait)

    async def __aenter__(self) -> Widget:
        await self.client.connect(self.assistant.rasa_url, socketio_path="/socket.io", wait_timeout=WAIT)
        await self.client.emit("session_request", {"session_id": self.session_id})
        assert await asyncio.wait_for(self.confirmed.get(), WAIT) == self.session_id
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.disconnect()

    async def says(self, text: str) -> list[str]:
        """Every message of the answer: socket.io sends them one by one, before Rasa saves the turn, so the turn
        is over once its events are stored (ending with action_listen after this message)."""
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        deadline = time.monotonic() + WAIT
        while True:
            events = await asyncio.to_thread(stored_events, self.assistant, self.session_id)
            users = [i for i, (_, kind, _, data) in enumerate(events) if kind == "user" and data.get("text") == text]
            if users and events[-1][2] == "action_listen" and len(events) - 1 > users[-1]:
                break
            assert time.monotonic() < deadline, f"no answer to {text!r} stored"
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # what was sent before the save has arrived
        texts = []
        while not self.messages.empty():
            texts.append(self.messages.get_nowait().get("text", ""))
        return texts


def test_an_erased_widget_conversation_starts_afresh_on_the_same_session_id(assistant, admin, domain):
    session_id = f"erase-sio-{uuid.uuid4().hex}"
    memorable = f"Octavian Brightwater {uuid.uuid4().hex[:6]}"
    email = f"octavian-{uuid.uuid4().hex[:8]}@example.org"

    async def before_erasure() -> list[str]:
        async with Widget(assistant, session_id) as widget:
            await widget.says(f"hi, I'm {memorable}")
            assert (await widget.says("please add me to your email updates"))[-1] == prompt_for("newsletter_email").text
            return await widget.says(email)

    answer = asyncio.run(before_erasure())
    assert answer[-1] == prompt_for("newsletter_first_name").text
    before = stored_events(assistant, session_id)

    assert erase(assistant, admin, session_id)["events"] == len(before)
    erased_at = time.time()
    assert stored_events(assistant, session_id) == []
    refused = send_feedback(assistant, session_id, answer[-1])  # the old answer is still on the visitor's screen
    assert (refused.status_code, refused.json()["error"]) == (404, "unknown_conversation")
    assert feedback_rows(assistant, session_id) == []

    async def after_erasure() -> list[str]:
        async with Widget(assistant, session_id) as widget:  # the page reloaded: same session id from the browser
            return await widget.says("hello there")

    reply = asyncio.run(after_erasure())

    check_starts_afresh(assistant, admin, session_id, reply, erased_at, [memorable, email], domain)
