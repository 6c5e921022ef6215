"""What the channels accept from a visitor, and the errors they give otherwise."""

from __future__ import annotations

import json

import pytest

from bot.channels.validation import InvalidMessage, clean_text, parse_rest_body


def body(payload) -> bytes:
    return json.dumps(payload).encode()


def test_a_normal_message_passes_with_its_metadata():
    message = parse_rest_body(body({"sender": "abc", "message": "  hi  ", "metadata": {"page": "/"}}), 2000)
    assert (message.sender, message.text, message.metadata) == ("abc", "hi", {"page": "/"})


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"", 400, "body_not_json"),
        (b"not json", 400, "body_not_json"),
        (b'{"sender": "a", "message": "\xff\xfe"}', 400, "body_not_utf8"),
        (body(["hi"]), 400, "body_not_object"),
        (body("hi"), 400, "body_not_object"),
        (body({"sender": "a"}), 400, "message_missing"),
        (body({"sender": "a", "message": None}), 400, "message_not_text"),
        (body({"sender": "a", "message": 42}), 400, "message_not_text"),
        (body({"sender": "a", "message": ""}), 400, "message_empty"),
        (body({"sender": "a", "message": " \n\x00 "}), 400, "message_empty"),
        (body({"sender": "a", "message": "x" * 2001}), 413, "message_too_long"),
        (body({"message": "hi"}), 400, "sender_missing"),
        (body({"sender": "", "message": "hi"}), 400, "sender_missing"),
        (body({"sender": "s" * 256, "message": "hi"}), 400, "sender_invalid"),
        (body({"sender": "..", "message": "hi"}), 400, "sender_invalid"),
        (body({"sender": " . ", "message": "hi"}), 400, "sender_invalid"),
        (body({"sender": "a", "message": "hi", "metadata": [1]}), 400, "metadata_invalid"),
    ],
)
def test_bad_input_is_refused_with_a_named_reason(raw, status, code):
    with pytest.raises(InvalidMessage) as caught:
        parse_rest_body(raw, 2000)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.detail


def test_control_characters_are_removed_but_line_breaks_and_html_are_kept_as_text():
    assert clean_text("a\x00b\x07\nc <img src=x>", 100) == "ab\nc <img src=x>"


def test_the_length_limit_counts_what_is_left_after_cleaning():
    assert clean_text("x" * 10, 10) == "x" * 10
    with pytest.raises(InvalidMessage):
        clean_text("x" * 11, 10)
