"""The speed benchmark's verdicts (bench/speed_report.py): each goal is judged against the baseline of the same run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.chat_load import LoadResult
from bench.speed import Variant
from bench.speed_report import goals, write_report


def _load(channel: str, concurrency: int, per_second: float, latency: float, errors: int = 0) -> LoadResult:
    result = LoadResult(channel=channel, concurrency=concurrency, seconds=10.0)
    result.latencies = [latency] * int(per_second * 10)
    result.errors = Counter({"no reply": errors} if errors else {})
    return result


def _variant(name: str, per_second: float, latency: float, **overrides) -> Variant:
    variant = Variant(name, Path("config.yml"), tuned=name == "ours")
    variant.training_seconds = overrides.get("training", 120.0)
    variant.ready_seconds = overrides.get("ready", 10.0)
    variant.memory_mb = {"Rasa server": overrides.get("memory", 700.0), "action server": 50.0}
    variant.quality = {
        "accuracy": overrides.get("accuracy", 0.96),
        "macro_f1": 0.96,
        "out_of_scope_recall": 0.98,
        "conversations_passed": 21,
        "conversations_total": 21,
    }
    variant.loads = [
        _load(channel, level, per_second, latency, overrides.get("errors", 0))
        for channel in ("rest", "socketio")
        for level in (1, 10, 50)
    ]
    return variant


def _verdicts(ours: Variant, baseline: Variant) -> dict[str, bool]:
    return {goal.name: goal.met for goal in goals(ours, baseline)}


def test_every_goal_met():
    verdicts = _verdicts(_variant("ours", 70, 0.15), _variant("baseline", 12, 0.9, accuracy=0.94))
    assert verdicts and all(verdicts.values()), verdicts


def test_each_goal_can_be_missed():
    baseline = _variant("baseline", 12, 0.9, accuracy=0.94)
    assert not _verdicts(_variant("ours", 50, 0.15), baseline)["throughput, 10 conversations, rest"]  # 4.2x
    assert not _verdicts(_variant("ours", 70, 0.3), baseline)["p95 latency, 10 conversations, socketio"]
    assert not _verdicts(_variant("ours", 70, 0.15, errors=1), baseline)["throughput, 10 conversations, rest"]
    assert not _verdicts(_variant("ours", 70, 0.15, ready=21), baseline)["start to ready (first answer)"]
    assert not _verdicts(_variant("ours", 70, 0.15, memory=801), baseline)["Rasa server memory after the load"]
    assert not _verdicts(_variant("ours", 70, 0.15, training=181), baseline)["training from scratch"]
    # below the baseline, or below the floor
    assert not _verdicts(_variant("ours", 70, 0.15, accuracy=0.93), baseline)["held-out accuracy"]
    better_baseline = _variant("baseline", 12, 0.9, accuracy=0.97)
    assert not _verdicts(_variant("ours", 70, 0.15, accuracy=0.96), better_baseline)["held-out accuracy"]


def test_the_report_and_plots_are_written_and_the_exit_code_says_if_all_goals_hold(tmp_path):
    baseline = _variant("baseline", 12, 0.9, accuracy=0.94)
    assert write_report(_variant("ours", 70, 0.15), baseline, tmp_path, "test machine", "make bench", 10) == 0
    text = (tmp_path / "speed.md").read_text()
    assert "Goals — all met" in text and "5.8×" in text
    for plot in ("speed-latency.png", "speed-throughput.png"):
        assert (tmp_path / plot).read_bytes().startswith(b"\x89PNG")
    assert write_report(_variant("ours", 70, 0.15, memory=900), baseline, tmp_path, "m", "make bench", 10) == 1
    assert "NOT all met" in (tmp_path / "speed.md").read_text()
