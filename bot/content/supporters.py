"""Typed access to the supporter journeys' content: newsletter.yml, fundraising.yml and enquiries.yml.

Each file has `messages` (what the assistant says) and `ask` (what each form asks, per slot, with optional
buttons). Placeholders in braces are filled by the actions; a missing message or placeholder is a ContentError
that names the file, so a typo made by staff is easy to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content import CONTENT_DIR, ContentError, load

PROMPT_FILES = ("newsletter", "fundraising", "enquiries")


@dataclass(frozen=True)
class Messages:
    """The `messages`-like mapping of one content file."""

    file: str
    texts: dict[str, Any]

    def __call__(self, key: str, **values: Any) -> str:
        try:
            return str(self.texts[key]).format(**values)
        except KeyError as missing:
            raise ContentError(f"{self.file}.yml: message {key!r} or its placeholder {missing} is missing") from None


@dataclass(frozen=True)
class Prompt:
    text: str
    buttons: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class FundraiserKind:
    key: str
    title: str
    tips: tuple[str, ...]


@dataclass(frozen=True)
class FundraisingContent:
    headline: str
    kinds: dict[str, FundraiserKind]
    message: Messages

    def kind_buttons(self) -> tuple[dict[str, str], ...]:
        return tuple({"title": kind.title, "payload": kind.title} for kind in self.kinds.values())


def _mapping(data: dict[str, Any], key: str, file: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ContentError(f"{file}.yml needs a mapping `{key}`")
    return value


def newsletter_messages(directory: Path = CONTENT_DIR) -> Messages:
    return Messages("newsletter", _mapping(load("newsletter", directory), "messages", "newsletter"))


def consent_sentence(directory: Path = CONTENT_DIR) -> str:
    """The exact sentence a visitor agrees to; stored with each sign-up."""
    sentence = load("newsletter", directory).get("consent_sentence")
    if not isinstance(sentence, str) or not sentence.strip():
        raise ContentError("newsletter.yml needs a `consent_sentence`")
    return " ".join(sentence.split())


def fundraising_content(directory: Path = CONTENT_DIR) -> FundraisingContent:
    data = load("fundraising", directory)
    kinds = {}
    for key, entry in _mapping(data, "kinds", "fundraising").items():
        if not isinstance(entry, dict) or not entry.get("title") or not isinstance(entry.get("tips"), list):
            raise ContentError(f"fundraising.yml: kind {key!r} needs a title and a list of tips")
        kinds[str(key)] = FundraiserKind(str(key), str(entry["title"]), tuple(str(tip) for tip in entry["tips"]))
    if not kinds:
        raise ContentError("fundraising.yml needs at least one kind")
    return FundraisingContent(
        headline=str(data.get("headline", "")),
        kinds=kinds,
        message=Messages("fundraising", _mapping(data, "messages", "fundraising")),
    )


def enquiry_messages(section: str | None = None, directory: Path = CONTENT_DIR) -> Messages:
    """The top-level texts of enquiries.yml, or those of one section (`media`, `person`)."""
    data = load("enquiries", directory)
    return Messages("enquiries", _mapping(data, section, "enquiries") if section else data)


def prompt_for(slot: str, directory: Path = CONTENT_DIR) -> Prompt:
    """What a form says to ask for `slot`, from the `ask` section of whichever journey file names it."""
    for file in PROMPT_FILES:
        entry = load(file, directory).get("ask", {}).get(slot)
        if entry is None:
            continue
        if not isinstance(entry, dict) or not entry.get("text"):
            raise ContentError(f"{file}.yml: ask.{slot} needs a `text`")
        text = str(entry["text"])
        if "{consent}" in text:
            text = text.replace("{consent}", consent_sentence(directory))
        buttons = tuple({"title": str(b["title"]), "payload": str(b["payload"])} for b in entry.get("buttons", []))
        if entry.get("buttons_from_kinds"):
            buttons += fundraising_content(directory).kind_buttons()
        return Prompt(text, buttons)
    raise ContentError(f"no content file has a question for the form slot {slot!r} (look at `ask` in {PROMPT_FILES})")
