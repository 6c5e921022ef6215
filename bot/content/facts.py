"""Typed access to `facts.yml`: the topics of IJM's history and impact, and how a question picks one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content import CONTENT_DIR, ContentError, load


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    answer: str
    more: str
    passages: tuple[str, ...]
    intents: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    article_title: str
    article_url: str
    read_more: str
    more_button: str
    messages: dict[str, str]
    topics: dict[str, Topic]

    def topic(self, key: str | None) -> Topic | None:
        return self.topics.get(key) if key else None

    def for_intent(self, intent: str | None) -> Topic | None:
        return next((t for t in self.topics.values() if intent in t.intents), None)

    def for_entities(self, places: list[str], years: list[str], events: list[str]) -> Topic | None:
        """The topic a named event, else a place, else a year points to (most specific first)."""
        for values, field in ((events, "events"), (places, "places"), (years, "years")):
            for value in values:
                for topic in self.topics.values():
                    if _matches(value, getattr(topic, field)):
                        return topic
        return None

    def message(self, key: str, **values: str) -> str:
        try:
            return self.messages[key].format(**values)
        except KeyError as missing:
            raise ContentError(f"facts.yml: message {key!r} or its placeholder {missing} is missing") from None

    def read_more_line(self) -> str:
        return self.read_more.format(url=self.article_url)

    def topics_with_entities(self) -> list[Topic]:
        return [t for t in self.topics.values() if t.places or t.years or t.events]


def _matches(value: str, candidates: tuple) -> bool:
    wanted = str(value).strip().casefold()
    return any(str(candidate).casefold() == wanted for candidate in candidates)


def _strings(entry: dict, field: str) -> tuple:
    raw = entry.get(field) or []
    if not isinstance(raw, list):
        raise ContentError(f"facts.yml: `{field}` must be a list")
    return tuple(raw)


def facts(directory: Path = CONTENT_DIR) -> Facts:
    data = load("facts", directory)
    try:
        article = data["article"]
        topics = {
            key: Topic(
                key=key,
                title=str(entry["title"]),
                answer=str(entry["answer"]).strip(),
                more=str(entry["more"]).strip(),
                passages=tuple(str(p) for p in entry["passages"]),
                intents=_strings(entry, "intents"),
                places=_strings(entry, "places"),
                years=tuple(int(y) for y in _strings(entry, "years")),
                events=_strings(entry, "events"),
            )
            for key, entry in data["topics"].items()
        }
        return Facts(
            article_title=str(article["title"]),
            article_url=str(article["url"]),
            read_more=str(data["read_more"]),
            more_button=str(data["more_button"]),
            messages={str(k): str(v).strip() for k, v in data["messages"].items()},
            topics=topics,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ContentError(f"facts.yml is missing or has a malformed entry: {error}") from None
