"""The stock model is kept with its training time while what it is trained on is unchanged (bot/evaluation.py)."""

from __future__ import annotations

import json
import shutil

from bot import evaluation
from bot.evaluation import baseline_model_name, train_baseline
from bot.settings import PROJECT_ROOT


def test_a_kept_stock_model_is_reused_with_its_recorded_training_time(tmp_path, monkeypatch):
    def no_training(*_args):
        raise AssertionError("a kept model was trained again")

    monkeypatch.setattr(evaluation, "train_from_scratch", no_training)
    name = baseline_model_name()
    (tmp_path / f"{name}.tar.gz").write_bytes(b"model")
    assert train_baseline(tmp_path).training_seconds is None  # kept from before times were recorded
    (tmp_path / f"{name}.json").write_text(json.dumps({"training_seconds": 952.0, "trained": "2026-11-30 23:41 UTC"}))
    kept = train_baseline(tmp_path)
    assert (kept.path, kept.training_seconds, kept.note) == (
        tmp_path / f"{name}.tar.gz",
        952.0,
        "kept from 2026-11-30 23:41 UTC",
    )


def test_retraining_records_the_time_and_our_config_does_not_change_the_name(tmp_path, monkeypatch):
    calls = []

    def fake_training(config, out_dir, name):
        calls.append(config)
        return out_dir / f"{name}.tar.gz", 12.5

    monkeypatch.setattr(evaluation, "train_from_scratch", fake_training)
    trained = train_baseline(tmp_path, retrain=True)
    assert calls == [evaluation.stock_config()] and trained.training_seconds == 12.5
    assert json.loads((tmp_path / f"{baseline_model_name()}.json").read_text())["training_seconds"] == 12.5


def test_the_stock_model_name_follows_the_data_and_domain_not_our_config(tmp_path):
    for name in ("config.yml", "domain.yml"):
        (tmp_path / name).write_text((PROJECT_ROOT / name).read_text())
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    before = baseline_model_name(tmp_path)
    (tmp_path / "config.yml").write_text("recipe: default.v1\npolicies: []\n")
    assert baseline_model_name(tmp_path) == before
    (tmp_path / "domain.yml").write_text((PROJECT_ROOT / "domain.yml").read_text() + "\n# changed\n")
    assert baseline_model_name(tmp_path) != before
