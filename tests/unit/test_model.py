"""The model fingerprint: what retrains and what does not."""

from __future__ import annotations

import shutil

import pytest

from bot.model import ensure_model, fingerprint, model_path
from bot.settings import PROJECT_ROOT


@pytest.fixture
def project(tmp_path):
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    (tmp_path / "bot" / "content").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "bot" / "content" / "assistant.yml", tmp_path / "bot" / "content")
    return tmp_path


def test_an_unchanged_project_has_a_stable_fingerprint(project):
    assert fingerprint(project) == fingerprint(project)


@pytest.mark.parametrize("changed", ["config.yml", "domain.yml", "data/nlu/chitchat.yml", "data/new.yml"])
def test_changing_anything_training_reads_changes_the_fingerprint(project, changed):
    before = fingerprint(project)
    with open(project / changed, "a", encoding="utf-8") as file:
        file.write("\n# changed\n")
    assert fingerprint(project) != before


def test_editing_content_does_not_ask_for_retraining(project):
    before = fingerprint(project)
    (project / "bot" / "content" / "assistant.yml").write_text("topics: []\n", encoding="utf-8")
    assert fingerprint(project) == before


def test_an_existing_model_for_the_fingerprint_is_reused_without_training(project, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    existing = model_path(models, project)
    existing.write_bytes(b"not really a model; training would replace it")

    path, trained = ensure_model(models, project)

    assert (path, trained) == (existing, False)
    assert existing.read_bytes().startswith(b"not really")
