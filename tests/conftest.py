"""Shared test helpers: project paths and the source article."""

from __future__ import annotations

import os
from pathlib import Path

# Rasa 3.6 declares its tracker store's table with SQLAlchemy 1.4's legacy API (we pin SQLAlchemy<2 for it):
# its "MovedIn20Warning" at import says nothing about our code.
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ARTICLE = ROOT / "bot" / "content" / "source" / "ijm-canada-25-years.txt"


@pytest.fixture(scope="session")
def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def source_article() -> str:
    assert SOURCE_ARTICLE.exists(), f"the source article is missing: {SOURCE_ARTICLE}"
    return SOURCE_ARTICLE.read_text(encoding="utf-8")
