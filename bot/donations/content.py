"""Typed access to donate.yml: the campaign switch and the giving texts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from bot.content import CONTENT_DIR, ContentError, load


@dataclass(frozen=True)
class Campaign:
    active: bool
    ends: date
    headline: str
    matched: str

    def running_on(self, today: date) -> bool:
        return self.active and today <= self.ends


@dataclass(frozen=True)
class DonateContent:
    campaign: Campaign
    largest_amount: Decimal
    messages: dict[str, str]
    # the buttons under "how can I help?" (title, payload), after the gift's link
    ways_to_help: tuple[tuple[str, str], ...] = ()

    def message(self, key: str, **values: str) -> str:
        try:
            return self.messages[key].format(**values)
        except KeyError as missing:
            raise ContentError(f"donate.yml: message {key!r} or its placeholder {missing} is missing") from None


def donate_content(directory: Path = CONTENT_DIR) -> DonateContent:
    data = load("donate", directory)
    try:
        campaign = data["campaign"]
        ends = campaign["ends"]
        return DonateContent(
            campaign=Campaign(
                active=bool(campaign["active"]),
                ends=ends if isinstance(ends, date) else date.fromisoformat(str(ends)),
                headline=str(campaign["headline"]),
                matched=str(campaign["matched"]),
            ),
            largest_amount=Decimal(str(data["largest_amount"])),
            messages={str(k): str(v) for k, v in data["messages"].items()},
            ways_to_help=tuple((str(way["title"]), str(way["payload"])) for way in data.get("ways_to_help") or []),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ContentError(f"donate.yml is missing or has a malformed entry: {error}") from None
