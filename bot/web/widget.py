"""What the web app serves for the website chat widget: its files, its settings, and the 👍 / 👎 it posts.

The widget's own files live in `bot/web/widget/`; socket.io-client (and axe-core, for the accessibility
tests) come from npm at set-up (`node_modules/`, `npm ci` in `make setup`) and are served from here too, so a
page with the widget makes no request to anyone but this web app and the Rasa server.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.assistant import assistant_content
from bot.settings import PROJECT_ROOT, Settings

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
NODE_MODULES = PROJECT_ROOT / "node_modules"
# Ours: what the size budget (≤ 30 KB gzipped) and the ready banner count.
WIDGET_FILES = (WIDGET_DIR / "widget.js", WIDGET_DIR / "widget.css")
SIZE_BUDGET_BYTES = 30 * 1024

MAX_FEEDBACK_BODY_BYTES = 32 * 1024
MAX_CONVERSATION_ID_CHARS = 255
MAX_RATED_TEXT_CHARS = 10_000
RATINGS = ("up", "down")


def gzip_size(paths: tuple[Path, ...] = WIDGET_FILES) -> int:
    """Bytes the files take gzipped (each on its own, as a server sends them), added up."""
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)) for path in paths)


def size_line(paths: tuple[Path, ...] = WIDGET_FILES) -> str:
    """'9.8 KB gzipped (widget.js + widget.css)' for the ready banner and the README."""
    names = " + ".join(path.name for path in paths)
    return f"{gzip_size(paths) / 1024:.1f} KB gzipped ({names}; budget {SIZE_BUDGET_BYTES // 1024} KB)"


@dataclass(frozen=True)
class Asset:
    """A file served as it is on disk, gzipped for clients that accept it, re-read when it changes."""

    path: Path
    content_type: str
    cache_control: str
    missing_hint: str = ""


class AssetCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[int, bytes, bytes]] = {}

    def get(self, asset: Asset) -> tuple[bytes, bytes]:
        """(plain, gzipped) bytes of the file; FileNotFoundError when it is missing."""
        mtime = asset.path.stat().st_mtime_ns
        with self._lock:
            cached = self._entries.get(asset.path)
            if cached and cached[0] == mtime:
                return cached[1], cached[2]
        body = asset.path.read_bytes()
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        with self._lock:
            self._entries[asset.path] = (mtime, body, packed)
        return body, packed


_NPM_HINT = "run `make setup` (it runs `npm ci`) to install the widget's front-end packages"

ASSETS: dict[str, Asset] = {
    "/widget.js": Asset(WIDGET_DIR / "widget.js", "application/javascript; charset=utf-8", "public, max-age=300"),
    "/widget.css": Asset(WIDGET_DIR / "widget.css", "text/css; charset=utf-8", "public, max-age=300"),
    "/vendor/socket.io.min.js": Asset(
        NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js",
        "application/javascript; charset=utf-8",
        "public, max-age=86400",
        _NPM_HINT,
    ),
    # The staff console's analytics charts (/console/analytics).
    "/vendor/chart.umd.js": Asset(
        NODE_MODULES / "chart.js" / "dist" / "chart.umd.js",
        "application/javascript; charset=utf-8",
        "public, max-age=86400",
        _NPM_HINT,
    ),
    # Only the accessibility tests load it (tests/browser/); served so that they need nothing from elsewhere.
    "/vendor/axe.min.js": Asset(
        NODE_MODULES / "axe-core" / "axe.min.js",
        "application/javascript; charset=utf-8",
        "public, max-age=86400",
        _NPM_HINT,
    ),
}


def widget_config(settings: Settings) -> dict[str, Any]:
    """The widget's settings and texts (GET /widget/config.json); data-* attributes on the script tag win."""
    content = assistant_content()
    return {
        "server": settings.rasa_url,
        "socketPath": "/socket.io",
        "welcome": content.message("widget_welcome"),
        "privacyNotice": content.message("privacy_notice"),
        "topics": content.topic_buttons(),
        "maxMessageChars": settings.max_message_chars,
    }


class FeedbackError(ValueError):
    """A feedback request that is refused; `status` and `code` go back to the client as JSON."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Feedback:
    conversation_id: str
    rating: str
    message_text: str


def _text_field(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise FeedbackError(422, "invalid_field", f"{name} must be a non-empty string")
    if len(value) > limit:
        raise FeedbackError(422, "invalid_field", f"{name} is longer than {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") is valid JSON but no text a database can store
        raise FeedbackError(422, "invalid_field", f"{name} is not valid Unicode text") from None
    return value


def parse_feedback(body: bytes | None, content_type: str | None) -> Feedback:
    """The feedback in a POST /api/feedback body, or FeedbackError saying why it is refused.

    JSON only (a cross-site form cannot send it without the browser asking first), at most 32 KB; fields:
    conversation_id (the widget's session id), rating ("up" or "down"), message_text (the answer rated).
    """
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise FeedbackError(415, "unsupported_media_type", "send the feedback as application/json")
    body = body or b""
    if len(body) > MAX_FEEDBACK_BODY_BYTES:
        raise FeedbackError(413, "too_large", f"the body is larger than {MAX_FEEDBACK_BODY_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FeedbackError(400, "invalid_json", "the body is not valid JSON") from None
    except RecursionError:
        raise FeedbackError(400, "invalid_json", "the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise FeedbackError(400, "invalid_json", "the body must be a JSON object")
    conversation_id = _text_field(data, "conversation_id", MAX_CONVERSATION_ID_CHARS).strip()
    rating = data.get("rating")
    if rating not in RATINGS:
        raise FeedbackError(422, "invalid_field", 'rating must be "up" or "down"')
    message_text = _text_field(data, "message_text", MAX_RATED_TEXT_CHARS)
    return Feedback(conversation_id=conversation_id, rating=rating, message_text=message_text)
