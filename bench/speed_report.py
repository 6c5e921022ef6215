"""The speed benchmark's report: Markdown with the ratios ours/baseline and the goals, two PNG plots, raw JSON."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from bench.console_scale import percentile

if TYPE_CHECKING:
    from bench.chat_load import LoadResult
    from bench.speed import Variant

DECISIONS = Path(__file__).with_name("speed_decisions.md")
GOAL_CONCURRENCY = 10
GOALS = {
    "throughput_ratio": 5.0,
    "p95_ms": 250.0,
    "ready_seconds": 20.0,
    "rasa_memory_mb": 800.0,
    "training_seconds": 180.0,
    "quality_floor": 0.95,
}


@dataclass(frozen=True)
class Goal:
    name: str
    target: str
    ours: str
    baseline: str
    met: bool


def seconds_or_unknown(seconds: float | None) -> str:
    return "not recorded" if seconds is None else f"{seconds:.0f} s"


def load(variant: Variant, channel: str, concurrency: int) -> LoadResult | None:
    return next((r for r in variant.loads if r.channel == channel and r.concurrency == concurrency), None)


def ms(seconds: list[float], share: float) -> float:
    return percentile(seconds, share) * 1000 if seconds else float("nan")


def goals(ours: Variant, baseline: Variant) -> list[Goal]:
    found: list[Goal] = []
    for channel in sorted({r.channel for r in ours.loads}):
        mine, theirs = load(ours, channel, GOAL_CONCURRENCY), load(baseline, channel, GOAL_CONCURRENCY)
        if not mine or not theirs:
            continue
        ratio = mine.throughput / theirs.throughput if theirs.throughput else float("inf")
        found.append(
            Goal(
                f"throughput, {GOAL_CONCURRENCY} conversations, {channel}",
                f"≥ {GOALS['throughput_ratio']:g}× baseline",
                f"{mine.throughput:.1f} msg/s ({ratio:.1f}×)",
                f"{theirs.throughput:.1f} msg/s",
                ratio >= GOALS["throughput_ratio"] and not mine.errors,
            )
        )
        p95 = ms(mine.latencies, 0.95)
        found.append(
            Goal(
                f"p95 latency, {GOAL_CONCURRENCY} conversations, {channel}",
                f"≤ {GOALS['p95_ms']:g} ms",
                f"{p95:.0f} ms",
                f"{ms(theirs.latencies, 0.95):.0f} ms",
                p95 <= GOALS["p95_ms"],
            )
        )
    found.append(
        Goal(
            "start to ready (first answer)",
            f"≤ {GOALS['ready_seconds']:g} s",
            f"{ours.ready_seconds:.1f} s",
            f"{baseline.ready_seconds:.1f} s",
            (ours.ready_seconds or 1e9) <= GOALS["ready_seconds"],
        )
    )
    rasa_mb = ours.memory_mb.get("Rasa server", float("nan"))
    found.append(
        Goal(
            "Rasa server memory after the load",
            f"≤ {GOALS['rasa_memory_mb']:g} MB",
            f"{rasa_mb:.0f} MB",
            f"{baseline.memory_mb.get('Rasa server', float('nan')):.0f} MB",
            rasa_mb <= GOALS["rasa_memory_mb"],
        )
    )
    found.append(
        Goal(
            "training from scratch",
            f"≤ {GOALS['training_seconds']:g} s",
            f"{ours.training_seconds:.0f} s",
            seconds_or_unknown(baseline.training_seconds),
            (ours.training_seconds or 1e9) <= GOALS["training_seconds"],
        )
    )
    for key, label in (("accuracy", "accuracy"), ("macro_f1", "macro F1")):
        mine, theirs = ours.quality[key], baseline.quality[key]
        found.append(
            Goal(
                f"held-out {label}",
                f"≥ baseline and ≥ {GOALS['quality_floor']:g}",
                f"{mine:.3f}",
                f"{theirs:.3f}",
                mine >= theirs and mine >= GOALS["quality_floor"],
            )
        )
    return found


def _speed_rows(ours: Variant, baseline: Variant) -> list[str]:
    rows = [
        "| channel | conversations | ours msg/s | baseline msg/s | ratio | ours p50 / p95 / p99 ms "
        "| baseline p50 / p95 / p99 ms | errors (ours / baseline) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mine in ours.loads:
        theirs = load(baseline, mine.channel, mine.concurrency)
        if theirs is None:
            continue
        ratio = mine.throughput / theirs.throughput if theirs.throughput else float("inf")

        def spread(result: LoadResult) -> str:
            return " / ".join(f"{ms(result.latencies, share):.0f}" for share in (0.5, 0.95, 0.99))

        rows.append(
            f"| {mine.channel} | {mine.concurrency} | {mine.throughput:.1f} | {theirs.throughput:.1f} | {ratio:.1f}× "
            f"| {spread(mine)} | {spread(theirs)} | {sum(mine.errors.values())} / {sum(theirs.errors.values())} |"
        )
    return rows


def revision() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    return commit.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def markdown(ours: Variant, baseline: Variant, machine: str, command: str, seconds: float) -> tuple[str, bool]:
    table = goals(ours, baseline)
    all_met = all(goal.met for goal in table)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Speed: our assistant against stock Rasa (issue #8)",
        "",
        f"Run {now} at {revision()} on {machine}.",
        f"Repeat with `{command}` (about 12 minutes when the baseline model is kept in",
        "var/baseline-models/, plus about 15 to train it the first time).",
        "",
        "Baseline: the same `data/` and `domain.yml` trained with the `config.yml` that `rasa init` writes, served",
        "by stock `rasa run` with Rasa's own REST and socket.io channels and its own SQL tracker store (a SQLite",
        "file, as ours), and the same action server. Ours: `config.yml` and the Rasa server as `ijm-bot run`",
        "starts it (our channels, tracker store and run-time settings; bench/speed_decisions.md). Load: multi-turn",
        f"conversations (bench/chat_load.py), a new sender each, no pause between messages, {seconds:g} s per",
        "channel and concurrency after a warm-up, load generator on the same machine.",
        "",
        "## Goals" + (" — all met" if all_met else " — NOT all met"),
        "",
        "| goal | target | ours | baseline | met |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {g.name} | {g.target} | {g.ours} | {g.baseline} | {'yes' if g.met else '**no**'} |" for g in table]
    lines += ["", "## Throughput and latency", "", *_speed_rows(ours, baseline), ""]
    lines += ["![latency](speed-latency.png)", "", "![throughput](speed-throughput.png)", ""]
    lines += ["## Quality", "", "| | ours | baseline |", "|---|---|---|"]
    for key, label in (
        ("accuracy", "held-out accuracy"),
        ("macro_f1", "held-out macro F1"),
        ("out_of_scope_recall", "out-of-scope recall"),
    ):
        lines.append(f"| {label} | {ours.quality[key]:.3f} | {baseline.quality[key]:.3f} |")
    lines.append(
        f"| conversation tests passed | {ours.quality['conversations_passed']}/{ours.quality['conversations_total']} "
        f"| {baseline.quality['conversations_passed']}/{baseline.quality['conversations_total']} |"
    )
    lines += ["", "## Start, memory, training", "", "| | ours | baseline |", "|---|---|---|"]
    lines.append(f"| start to first answer | {ours.ready_seconds:.1f} s | {baseline.ready_seconds:.1f} s |")
    for name in ("Rasa server", "action server"):
        lines.append(
            f"| {name} resident memory after the load | {ours.memory_mb.get(name, 0):.0f} MB "
            f"| {baseline.memory_mb.get(name, 0):.0f} MB |"
        )
    note = f" ({baseline.training_note})" if baseline.training_note else ""
    baseline_training = seconds_or_unknown(baseline.training_seconds)
    lines.append(f"| training from scratch | {ours.training_seconds:.0f} s | {baseline_training}{note} |")
    if DECISIONS.exists():
        lines += ["", DECISIONS.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n", all_met


def plots(ours: Variant, baseline: Variant, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    channels = sorted({r.channel for r in ours.loads})
    figure, axes = plt.subplots(1, len(channels), figsize=(6 * len(channels), 4.5), squeeze=False)
    for axis, channel in zip(axes[0], channels, strict=True):
        data, labels = [], []
        for variant in (baseline, ours):
            for result in variant.loads:
                if result.channel == channel and result.latencies:
                    data.append([value * 1000 for value in result.latencies])
                    labels.append(f"{variant.name}\n×{result.concurrency}")
        axis.boxplot(data, labels=labels, showfliers=False, whis=(5, 95))
        axis.set_yscale("log")
        axis.set_ylabel("latency per message (ms, log scale)")
        axis.set_title(f"{channel}: latency (whiskers p5–p95)")
        axis.axhline(GOALS["p95_ms"], color="tab:red", linestyle=":", linewidth=1)
    figure.tight_layout()
    figure.savefig(out / "speed-latency.png", dpi=90)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for variant, style in ((ours, "-"), (baseline, "--")):
        for channel in channels:
            points = sorted((r.concurrency, r.throughput) for r in variant.loads if r.channel == channel)
            axis.plot(*zip(*points, strict=True), style, marker="o", label=f"{variant.name}, {channel}")
    axis.set_xscale("log")
    axis.set_xlabel("concurrent conversations")
    axis.set_ylabel("messages answered per second")
    axis.set_title("Throughput against concurrency")
    axis.legend()
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(out / "speed-throughput.png", dpi=90)
    plt.close(figure)


def raw(variants: list[Variant]) -> dict:
    return {
        variant.name: {
            "training_seconds": variant.training_seconds,
            "quality": variant.quality,
            "ready_seconds": variant.ready_seconds,
            "memory_mb": variant.memory_mb,
            "loads": [
                {
                    "channel": r.channel,
                    "concurrency": r.concurrency,
                    "seconds": r.seconds,
                    "answered": len(r.latencies),
                    "throughput": r.throughput,
                    "p50_ms": ms(r.latencies, 0.5),
                    "p95_ms": ms(r.latencies, 0.95),
                    "p99_ms": ms(r.latencies, 0.99),
                    "errors": dict(r.errors),
                    "error_examples": r.error_examples,
                }
                for r in variant.loads
            ],
        }
        for variant in variants
    }


def write_report(ours: Variant, baseline: Variant, out: Path, machine: str, command: str, seconds: float) -> int:
    out.mkdir(parents=True, exist_ok=True)
    text, all_met = markdown(ours, baseline, machine, command, seconds)
    (out / "speed.md").write_text(text, encoding="utf-8")
    (out / "speed.json").write_text(json.dumps(raw([ours, baseline]), indent=2) + "\n", encoding="utf-8")
    plots(ours, baseline, out)
    print(text, flush=True)
    return 0 if all_met else 1
