"""The speed benchmark (issue #8): our assistant against stock Rasa on the same data, in the same run.

    .venv/bin/python -m bench.speed [--seconds 30] [--concurrency 1,10,50] [--channels rest,socketio]
                                    [--retrain-baseline] [--out bench/results]

The baseline is the same data/ and domain.yml trained with the config.yml that `rasa init` writes (Rasa's default
pipeline and policies: DIET, ResponseSelector, TED and UnexpecTED at 100 epochs), served by stock `rasa run`:
Rasa's own REST and socket.io channels and its own SQL tracker store (on a SQLite file, as ours), the same action
server, none of our run-time settings. For each of the two, in turn:

1. Training from scratch (`rasa train` into a temporary folder), timed. The baseline's model is kept in
   var/baseline-models/ with its training time and reused until the data changes (--retrain-baseline).
2. Quality: accuracy and macro F1 on the held-out NLU file (tests/nlu/test_nlu.yml), out-of-scope recall, and
   the conversation tests (tests/test_stories.yml) that pass.
3. Start to ready: the action server is up; from starting the Rasa server to its first answer over REST.
4. Load (bench/chat_load.py): multi-turn conversations over REST and socket.io at each concurrency, for
   --seconds each, after a warm-up; throughput and p50/p95/p99 latency.
5. Resident memory (VmRSS, with child processes) of the Rasa server and the action server after the load.

Report: bench/results/speed.md (ratios ours/baseline, the goals, the commands), speed-latency.png,
speed-throughput.png, and speed.json with the raw figures. Exit code 1 when a goal is missed, 2 on a failure to
run. A benchmark, not a test: the figures depend on the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.chat_load import LoadResult, first_answer, run_load
from bench.console_scale import machine
from bot.cli import standalone_specs
from bot.evaluation import HELD_OUT, evaluate, stock_config, train_baseline, train_from_scratch
from bot.model import RUN_TUNING_ENV, child_env, rasa_executable
from bot.settings import PROJECT_ROOT, Settings
from bot.supervisor import RunningService, ServiceSpec
from tests.e2e.harness import free_port

RESULTS = PROJECT_ROOT / "bench" / "results"
STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"
START_TIMEOUT = 600
WARM_UP_SECONDS = 5.0
# What `rasa init` writes for these two channels, with our socket.io event names (the widget's protocol).
STOCK_CREDENTIALS = {
    "rest": None,
    "socketio": {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True},
}
# Limits for a benchmark from one address: every visitor comes from 127.0.0.1 and talks without pause.
BENCH_ENV = {"RATE_LIMIT_PER_IP": "1000000/60", "RATE_LIMIT_PER_SESSION": "1000000/60"}


@dataclass
class Variant:
    name: str
    config: Path
    tuned: bool  # our run-time settings (bot.cli.service_specs) or Rasa's defaults
    model: Path | None = None
    training_seconds: float | None = None
    training_note: str = ""  # for a kept baseline model: when it was trained, and how
    quality: dict[str, float] = field(default_factory=dict)
    ready_seconds: float | None = None
    memory_mb: dict[str, float] = field(default_factory=dict)
    loads: list[LoadResult] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------- training


# ---------------------------------------------------------------------------------------------------- quality


def conversation_tests(model: Path, out_dir: Path) -> tuple[int, int]:
    """(passed, total) of tests/test_stories.yml with `rasa test core` on this model."""
    total = len(yaml.safe_load(STORIES.read_text())["stories"])
    command = [
        rasa_executable(), "test", "core", "--stories", str(STORIES), "--model", str(model), "--out", str(out_dir),
    ]  # fmt: skip
    subprocess.run(command, cwd=PROJECT_ROOT, env=child_env(), check=True, capture_output=True)
    failed_file = out_dir / "failed_test_stories.yml"
    failed = yaml.safe_load(failed_file.read_text()) if failed_file.exists() else None
    failed_count = len((failed or {}).get("stories") or [])
    return total - failed_count, total


def measure_quality(variant: Variant, workdir: Path) -> None:
    assert variant.model is not None
    held_out = evaluate(variant.model, variant.name, HELD_OUT)
    passed, total = conversation_tests(variant.model, workdir / f"core-{variant.name}")
    variant.quality = {
        "accuracy": held_out.accuracy,
        "macro_f1": held_out.macro_f1,
        "out_of_scope_recall": held_out.out_of_scope["recall"],
        "conversations_passed": passed,
        "conversations_total": total,
    }


# ---------------------------------------------------------------------------------------------------- serving


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB (from /proc)."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total_kb += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        except (OSError, StopIteration):
            continue
    return total_kb / 1024


def stock_rasa_server(spec: ServiceSpec, workdir: Path, settings: Settings, database_url: str) -> ServiceSpec:
    """Our Rasa server's command and environment as stock Rasa: Rasa's own channels and SQL tracker store (on the
    same database), none of our tuning."""
    credentials = workdir / "stock-credentials.yml"
    credentials.write_text(yaml.safe_dump(STOCK_CREDENTIALS), encoding="utf-8")
    endpoints = workdir / "stock-endpoints.yml"
    stock_endpoints = {
        "action_endpoint": {"url": settings.action_server_url},
        "tracker_store": {"type": "sql", "url": database_url},
    }
    endpoints.write_text(yaml.safe_dump(stock_endpoints), encoding="utf-8")
    command = list(spec.command)
    command[command.index("--credentials") + 1] = str(credentials)
    command[command.index("--endpoints") + 1] = str(endpoints)
    env = {key: value for key, value in spec.env.items() if key not in RUN_TUNING_ENV}
    return dataclasses.replace(spec, command=command, env=env)


class Stack:
    """The action server and the Rasa server of one variant, started as `ijm-bot run` starts them."""

    def __init__(self, variant: Variant, workdir: Path) -> None:
        assert variant.model is not None
        ports = {name: str(free_port()) for name in ("RASA_PORT", "ACTION_PORT", "WEB_PORT")}
        database_url = f"sqlite:///{workdir}/{variant.name}.db"
        env = {**ports, **BENCH_ENV, "DATABASE_URL": database_url}
        self.settings, specs = standalone_specs(variant.model, database_url, env)
        self.specs = {name: specs[name] for name in ("action server", "Rasa server")}
        if not variant.tuned:
            stock = stock_rasa_server(self.specs["Rasa server"], workdir, self.settings, database_url)
            self.specs["Rasa server"] = stock
        self.log = (workdir / f"{variant.name}.log").open("a", encoding="utf-8")
        self.services: dict[str, RunningService] = {}

    def start(self, name: str) -> None:
        self.services[name] = RunningService.start(self.specs[name], self.log)

    def wait_ready(self, name: str) -> None:
        self.services[name].wait_ready(START_TIMEOUT)

    def pid(self, name: str) -> int:
        return self.services[name].process.pid

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.log.close()


def measure_serving(variant: Variant, workdir: Path, channels: list[str], levels: list[int], seconds: float) -> None:
    stack = Stack(variant, workdir)
    try:
        stack.start("action server")
        stack.wait_ready("action server")
        started = time.monotonic()
        stack.start("Rasa server")
        answered = asyncio.run(first_answer(stack.settings.rasa_url, started + START_TIMEOUT))
        variant.ready_seconds = answered - started
        asyncio.run(run_load(stack.settings.rasa_url, "rest", 2, WARM_UP_SECONDS))
        for channel in channels:
            for level in levels:
                result = asyncio.run(run_load(stack.settings.rasa_url, channel, level, seconds, stack.settings.web_url))
                variant.loads.append(result)
                print(
                    f"  {variant.name} {channel} x{level}: {result.throughput:.1f} msg/s, "
                    f"{len(result.latencies)} answered, errors {dict(result.errors)}",
                    flush=True,
                )
        variant.memory_mb = {name: rss_mb(stack.pid(name)) for name in ("Rasa server", "action server")}
    finally:
        stack.stop()


# ---------------------------------------------------------------------------------------------------- the run


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from bench.speed_report import write_report

    channels = args.channels.split(",")
    levels = [int(level) for level in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory(prefix="ijm-speed-") as tmp:
        workdir = Path(tmp)
        ours = Variant("ours", PROJECT_ROOT / "config.yml", tuned=True)
        baseline = Variant("baseline", stock_config(), tuned=False)
        print("Training the baseline (stock config.yml) unless kept from an earlier run…", flush=True)
        stock = train_baseline(retrain=args.retrain_baseline)
        baseline.model, baseline.training_seconds = stock.path, stock.training_seconds
        baseline.training_note = stock.note
        print("Training ours from scratch…", flush=True)
        ours.model, ours.training_seconds = train_from_scratch(ours.config, workdir / "models", "ours")
        for variant in (baseline, ours):
            print(f"Quality of {variant.name}…", flush=True)
            measure_quality(variant, workdir)
        for variant in (baseline, ours):
            print(f"Serving {variant.name}…", flush=True)
            measure_serving(variant, workdir, channels, levels, args.seconds)
        command = "make bench" + (f" BENCH_ARGS='{' '.join(argv)}'" if argv else "")
        return write_report(ours, baseline, Path(args.out), machine(), command, args.seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="load per channel and concurrency (s)")
    parser.add_argument("--concurrency", default="1,10,50")
    parser.add_argument("--channels", default="rest,socketio")
    parser.add_argument("--retrain-baseline", action="store_true")
    parser.add_argument("--out", default=str(RESULTS))
    argv = sys.argv[1:] if argv is None else argv
    return run(parser.parse_args(argv), argv)


if __name__ == "__main__":
    sys.exit(main())
