"""Models side by side, in one run: the same traffic played to each trained model in turn (a benchmark, not a test).

    .venv/bin/python -m bench.models MODEL.tar.gz|@CHECKOUT [MODEL.tar.gz ...] [--seconds 30]
                                     [--concurrency 1,10] [--out bench/results/models.md]

Each model is served by `ijm-bot run --model MODEL` (bot/reply_evaluation.py's running_assistant: our channels,
actions and settings; a throw-away SQLite database; rate limits off) on free loopback ports. The traffic is the
speed benchmark's scripted conversations (bench/chat_load.py) over REST, then the same at each concurrency with
visitors' fact questions (the tuning file's, never an unseen one) as every second message. Reported per model:
throughput, p50/p95 latency, the Rasa server's resident memory once ready and after the load, and the seconds from
start to ready. Ratios against the first model are what to
compare: the figures depend on the machine and on whatever else it is doing. `@CHECKOUT` serves another checkout
(a `git worktree` of an older commit, with its model trained there) by its own code and model: a before/after of
both.

Used to decide a pipeline change (e.g. the ResponseSelector's size) with before/after figures from one session.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench import chat_load
from bench.speed import rss_mb
from bot.reply_evaluation import TUNING, running_assistant
from bot.settings import PROJECT_ROOT


@dataclass
class ModelFigures:
    model: str
    ready_seconds: float
    idle_mb: float  # the Rasa server's resident memory once ready, before any load
    rss_mb: float
    loads: list[chat_load.LoadResult]
    cpu_ms: list[float]  # the Rasa server's CPU time per answered message, per load (steadier than msg/s here)


def fact_scripts(path: Path = TUNING, limit: int = 60) -> tuple[tuple[str, ...], ...]:
    """Conversations that mix the speed benchmark's turns with real visitors' fact questions."""
    questions = [entry["q"] for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]][:limit]
    turns = itertools.cycle(t for script in chat_load.SCRIPTS for t in script)
    return tuple(tuple(x for q in questions[i : i + 3] for x in (q, next(turns))) for i in range(0, limit, 3))


def _rasa_pid(rest_url: str) -> int:
    """The Rasa server serving rest_url: the `rasa run` process whose command line names its port."""
    port = rest_url.split(":")[2].split("/")[0]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if re.search(r"\brasa\b.*\brun\b", command) and re.search(rf"--port {port}\b", command):
            return int(cmdline.parent.name)
    raise RuntimeError("the Rasa server's process was not found")


def measure(model: Path | None, seconds: float, levels: list[int], checkout: Path | None = None) -> ModelFigures:
    started = time.monotonic()
    with running_assistant(Path(tempfile.mkdtemp(prefix="ijm-bench-models-")), model, checkout) as rest_url:
        ready = time.monotonic() - started
        rasa_url = rest_url.removesuffix("/webhooks/rest/webhook")
        rasa_pid = _rasa_pid(rest_url)
        idle = rss_mb(rasa_pid)
        loads = []
        cpu_ms: list[float] = []
        original = chat_load.SCRIPTS
        try:
            for name, scripts in (("scripted", original), ("fact questions", fact_scripts())):
                chat_load.SCRIPTS = scripts
                asyncio.run(chat_load.run_load(rasa_url, "rest", 2, 5.0))  # warm-up
                for level in levels:
                    cpu_before = cpu_seconds(rasa_pid)
                    result = asyncio.run(chat_load.run_load(rasa_url, "rest", level, seconds))
                    result.channel = f"REST, {name}"
                    cpu_ms.append((cpu_seconds(rasa_pid) - cpu_before) * 1000 / max(1, len(result.latencies)))
                    loads.append(result)
        finally:
            chat_load.SCRIPTS = original
        name = model.name if model is not None else f"{checkout} (its code and model)"
        return ModelFigures(name, ready, idle, rss_mb(rasa_pid), loads, cpu_ms)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/<pid>/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def markdown(figures: list[ModelFigures]) -> str:
    base = figures[0]
    lines = ["# Models side by side (bench/models.py)", "", f"Ratios against `{base.model}`.", "",
             "| model | traffic | conversations | msg/s | ratio | p50 ms | p95 ms | Rasa CPU ms/msg | ratio | errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for figure in figures:
        rows = zip(figure.loads, figure.cpu_ms, base.loads, base.cpu_ms, strict=True)
        for load, cpu, base_load, base_cpu in rows:
            ratio = load.throughput / base_load.throughput if base_load.throughput else float("nan")
            lines.append(
                f"| {figure.model} | {load.channel} | {load.concurrency} | {load.throughput:.1f} | {ratio:.2f}x | "
                f"{_percentile(load.latencies, 0.5) * 1000:.0f} | {_percentile(load.latencies, 0.95) * 1000:.0f} | "
                f"{cpu:.1f} | {cpu / base_cpu if base_cpu else float('nan'):.2f}x | {sum(load.errors.values())} |"
            )
    lines += ["", "| model | Rasa server memory: ready | after the load | ratio | start to ready |",
              "|---|---|---|---|---|"]  # fmt: skip
    for figure in figures:
        lines.append(
            f"| {figure.model} | {figure.idle_mb:,.0f} MB | {figure.rss_mb:,.0f} MB | "
            f"{figure.rss_mb / base.rss_mb:.2f}x | {figure.ready_seconds:.1f} s |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.models", description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="MODEL.tar.gz, or @CHECKOUT: that checkout's code and model")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", default="1,10")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "models.md")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.concurrency.split(",")]
    figures = []
    for argument in args.models:
        if argument.startswith("@"):
            figures.append(measure(None, args.seconds, levels, Path(argument[1:]).resolve()))
        else:
            figures.append(measure(Path(argument).resolve(), args.seconds, levels))
    report = markdown(figures)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
