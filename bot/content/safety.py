"""Typed access to `safety.yml`: the answer to someone who discloses danger or exploitation, the answers to the
questions that follow it, and the one line a question about the topic gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content import CONTENT_DIR, ContentError, load


@dataclass(frozen=True)
class SafetyAnswer:
    message: str
    follow_up: str


@dataclass(frozen=True)
class SafetyContent:
    answer: SafetyAnswer
    topic_line: str
    topic_words: tuple[str, ...]
    report_info: str
    follow_ups: dict[str, str]

    def follow_up(self, key: str | None) -> str:
        """The answer to a question after the safety answer; `other` for one without its own."""
        return self.follow_ups.get(key or "", self.follow_ups["other"])

    def mentions_topic(self, text: str) -> bool:
        """Whether a question names trafficking, exploitation… (then its answer ends with `topic_line`)."""
        lowered = text.casefold()
        return any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in self.topic_words)


def safety_content(directory: Path = CONTENT_DIR) -> SafetyContent:
    data = load("safety", directory)
    try:
        values = {**data["numbers"], **data["links"]}

        def filled(text: object) -> str:
            return " ".join(str(text).split()).format(**values)

        follow_ups = {str(key): filled(entry["text"]) for key, entry in data["follow_ups"].items()}
        if "other" not in follow_ups:
            raise KeyError("follow_ups.other")
        return SafetyContent(
            answer=SafetyAnswer(message=filled(data["message"]), follow_up=filled(data["follow_up"])),
            topic_line=filled(data["topic_line"]),
            topic_words=tuple(str(w).casefold() for w in data["topic_words"]),
            report_info=filled(data["report_info"]),
            follow_ups=follow_ups,
        )
    except (KeyError, TypeError) as error:
        raise ContentError(f"safety.yml is missing or has a malformed entry: {error}") from None


def safety_answer(directory: Path = CONTENT_DIR) -> SafetyAnswer:
    return safety_content(directory).answer


def emergency_number(directory: Path = CONTENT_DIR) -> str:
    """The number to call in immediate danger (safety.yml `numbers.emergency`)."""
    try:
        return str(load("safety", directory)["numbers"]["emergency"])
    except (KeyError, TypeError) as error:
        raise ContentError(f"safety.yml has no numbers.emergency: {error}") from None
