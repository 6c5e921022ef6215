"""Typed access to `assistant.yml`: the main topics and the menu messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content import CONTENT_DIR, ContentError, load


@dataclass(frozen=True)
class Topic:
    title: str
    payload: str

    def as_button(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class AssistantContent:
    topics: tuple[Topic, ...]
    messages: dict[str, str]

    def message(self, key: str) -> str:
        try:
            return self.messages[key]
        except KeyError:
            raise ContentError(f"assistant.yml has no message {key!r}") from None

    def topic_buttons(self) -> list[dict[str, str]]:
        return [topic.as_button() for topic in self.topics]


def assistant_content(directory: Path = CONTENT_DIR) -> AssistantContent:
    data = load("assistant", directory)
    raw_topics = data.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        raise ContentError("assistant.yml needs a non-empty list `topics`")
    topics = []
    for entry in raw_topics:
        if not isinstance(entry, dict) or not entry.get("title") or not entry.get("payload"):
            raise ContentError(f"each topic in assistant.yml needs a title and a payload, got {entry!r}")
        topics.append(Topic(title=str(entry["title"]), payload=str(entry["payload"])))
    messages = data.get("messages")
    if not isinstance(messages, dict):
        raise ContentError("assistant.yml needs a mapping `messages`")
    return AssistantContent(topics=tuple(topics), messages={str(k): str(v) for k, v in messages.items()})
