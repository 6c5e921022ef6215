"""Content files: loading, reloading on change, and clear errors."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from bot.content import CONTENT_DIR, ContentError, load
from bot.content.assistant import assistant_content

NUMBER = re.compile(r"\d[\d,.]*\d|\d")


def _write(path: Path, text: str, bump: int = 0) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump))


def test_an_edited_file_is_read_again(tmp_path):
    file = tmp_path / "assistant.yml"
    _write(file, "topics: [{title: A, payload: a}]\nmessages: {capabilities: first}\n")
    assert assistant_content(tmp_path).message("capabilities") == "first"

    _write(file, "topics: [{title: A, payload: a}]\nmessages: {capabilities: second}\n", bump=10**9)
    assert assistant_content(tmp_path).message("capabilities") == "second"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("topics: [unclosed\n", "not valid YAML"),
        ("- a list\n", "mapping at the top"),
        ("topics: []\nmessages: {}\n", "non-empty list `topics`"),
        ("topics: [{title: A}]\nmessages: {}\n", "title and a payload"),
        ("topics: [{title: A, payload: a}]\n", "mapping `messages`"),
    ],
)
def test_a_malformed_file_gives_a_clear_error(tmp_path, text, problem):
    _write(tmp_path / "assistant.yml", text)
    with pytest.raises(ContentError, match=re.escape(problem)):
        assistant_content(tmp_path)


def test_a_missing_file_or_message_is_named(tmp_path):
    with pytest.raises(ContentError, match="does not exist"):
        load("nothing-here", tmp_path)
    with pytest.raises(ContentError, match="no message 'nope'"):
        assistant_content().message("nope")


# Contact details are not figures about IJM: they are checked for where they come from, not for numbers.
CONTACT_KEYS = {"numbers", "links", "url", "email", "phone"}
# Patterns the assistant matches questions with, never says.
CONTACT_KEYS |= {"details", "topic_words", "cards", "gives"}


def _strings(item, key=None):
    if key in CONTACT_KEYS:
        return
    if isinstance(item, dict):
        for k, v in item.items():
            yield from _strings(v, k)
    elif isinstance(item, list):
        for v in item:
            yield from _strings(v, key)
    elif isinstance(item, str):
        yield item


def _all_reply_texts(domain: dict) -> list[str]:
    texts = [v["text"] for variants in domain["responses"].values() for v in variants if "text" in v]
    for file in CONTENT_DIR.glob("*.yml"):
        texts.extend(_strings(yaml.safe_load(file.read_text(encoding="utf-8"))))
    return texts


def test_every_number_the_assistant_can_say_appears_in_the_source_article(domain, source_article):
    article_numbers = {n.replace(",", "") for n in NUMBER.findall(source_article)}
    unsupported = {
        number
        for text in _all_reply_texts(domain)
        for number in NUMBER.findall(text)
        if number.replace(",", "").rstrip(".") not in article_numbers
    }
    assert not unsupported, f"numbers not in the source article: {sorted(unsupported)}"


def test_the_number_check_would_catch_an_invented_figure(source_article):
    article_numbers = {n.replace(",", "") for n in NUMBER.findall(source_article)}
    assert "76063" in article_numbers
    assert "80000" not in article_numbers
