"""Editable content: the texts, links and topic lists the assistant gives.

Staff change the YAML files in this folder without touching code or retraining the model. Files are re-read
when they change on disk, so a running action server picks up an edit on the next message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

import yaml

CONTENT_DIR = Path(__file__).resolve().parent


class ContentError(ValueError):
    """A content file is missing, malformed or lacks a required entry."""


@dataclass(frozen=True)
class _Cached:
    mtime_ns: int
    data: dict[str, Any]


_cache: dict[Path, _Cached] = {}
_lock = Lock()


def load(name: str, directory: Path = CONTENT_DIR) -> dict[str, Any]:
    """Return the parsed `<name>.yml`, re-reading it only when the file changed."""
    path = directory / f"{name}.yml"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ContentError(f"content file {path} does not exist") from None
    with _lock:
        cached = _cache.get(path)
        if cached and cached.mtime_ns == mtime:
            return cached.data
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ContentError(f"content file {path} is not valid YAML: {error}") from None
        if not isinstance(data, dict):
            raise ContentError(f"content file {path} must hold a mapping at the top")
        _cache[path] = _Cached(mtime, data)
        return data
