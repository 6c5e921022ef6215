"""Checks on what a visitor sends, shared by the REST and socket.io channels."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_SENDER_CHARS = 255  # the width of `sender_id` in Rasa's SQL tracker store
# Control characters other than tab and newline: PostgreSQL refuses NUL, and none of them carry meaning here.
# Lone surrogates (JSON "\\ud800" decodes to one) are not text either: they cannot be written as UTF-8.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


@dataclass
class InvalidMessage(Exception):
    """A message that cannot be passed to the assistant, with the reason for the client."""

    status: int
    code: str
    detail: str
    # The key of the reply in bot/content/assistant.yml a chat visitor sees, when one fits.
    reply_key: str | None = None


@dataclass(frozen=True)
class ChatMessage:
    sender: str
    text: str
    metadata: dict[str, Any] | None


def clean_text(raw: Any, max_chars: int) -> str:
    if not isinstance(raw, str):
        raise InvalidMessage(400, "message_not_text", "`message` must be a string")
    text = _CONTROL_CHARS.sub("", raw).strip()
    if not text:
        raise InvalidMessage(400, "message_empty", "`message` is empty", reply_key="empty_message")
    if len(text) > max_chars:
        raise InvalidMessage(
            413,
            "message_too_long",
            f"`message` has {len(text)} characters; the limit is {max_chars}",
            reply_key="message_too_long",
        )
    return text


def clean_sender(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidMessage(400, "sender_missing", "`sender` must be a non-empty string")
    sender = raw.strip()
    if len(sender) > MAX_SENDER_CHARS or _CONTROL_CHARS.search(sender):
        raise InvalidMessage(
            400, "sender_invalid", f"`sender` must be printable and at most {MAX_SENDER_CHARS} characters"
        )
    if sender in (".", ".."):
        # Browsers and HTTP clients resolve these as path segments, so the console could never link to them.
        raise InvalidMessage(400, "sender_invalid", "`sender` can't be '.' or '..'")
    return sender


def clean_metadata(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidMessage(400, "metadata_invalid", "`metadata` must be a JSON object")
    return raw


def parse_rest_body(body: bytes, max_chars: int) -> ChatMessage:
    """Parse and check the body of a REST webhook request."""
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMessage(400, "body_not_utf8", "the request body is not valid UTF-8") from None
    try:
        payload = json.loads(decoded)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's recursion limit
        raise InvalidMessage(400, "body_not_json", "the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InvalidMessage(
            400, "body_not_object", 'the request body must be a JSON object: {"sender": ..., "message": ...}'
        )
    if "message" not in payload:
        raise InvalidMessage(400, "message_missing", "the request body has no `message`")
    return ChatMessage(
        sender=clean_sender(payload.get("sender")),
        text=clean_text(payload["message"], max_chars),
        metadata=clean_metadata(payload.get("metadata")),
    )
