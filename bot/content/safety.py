"""Typed access to `safety.yml`: the answer to someone who discloses danger or exploitation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content import CONTENT_DIR, ContentError, load


@dataclass(frozen=True)
class SafetyAnswer:
    message: str
    follow_up: str


def safety_answer(directory: Path = CONTENT_DIR) -> SafetyAnswer:
    data = load("safety", directory)
    try:
        values = {**data["numbers"], **data["links"]}
        return SafetyAnswer(
            message=str(data["message"]).strip().format(**values),
            follow_up=str(data["follow_up"]).strip(),
        )
    except (KeyError, TypeError) as error:
        raise ContentError(f"safety.yml is missing or has a malformed entry: {error}") from None


def emergency_number(directory: Path = CONTENT_DIR) -> str:
    """The number to call in immediate danger (safety.yml `numbers.emergency`)."""
    try:
        return str(load("safety", directory)["numbers"]["emergency"])
    except (KeyError, TypeError) as error:
        raise ContentError(f"safety.yml has no numbers.emergency: {error}") from None
