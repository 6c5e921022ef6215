"""Which trained model belongs to the current project, and training one when there is none.

A model is named after a fingerprint of everything training reads (config, domain, training data, the Rasa
version), so an unchanged project finds its model in `models/` and is not retrained, and a changed one
never runs with a stale model. Content in bot/content/ is not part of it: editing it needs no retraining, except
adding, removing or renaming a fact card or a safety follow-up, since each is a retrieval intent of its own (its
key is part of the fingerprint; bot/nlu/card_responses.py).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from bot.settings import PROJECT_ROOT

MODEL_PREFIX = "ijm-"
KEEP_MODELS = 3
TRAINING_INPUTS = ("config.yml", "domain.yml", "data")


class TrainingFailed(RuntimeError):
    pass


def _training_files(root: Path, inputs: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for name in inputs:
        path = root / name
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))
        elif path.is_file():
            files.append(path)
    return sorted(files)


def fingerprint(root: Path = PROJECT_ROOT, inputs: tuple[str, ...] = TRAINING_INPUTS) -> str:
    digest = hashlib.sha256()
    digest.update(f"rasa=={metadata.version('rasa')}\n".encode())
    for path in _training_files(root, inputs):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    if "data" in inputs:
        from bot.nlu.card_responses import retrieval_responses

        digest.update("\n".join(sorted(retrieval_responses())).encode())
    return digest.hexdigest()[:16]


def model_path(model_dir: Path, root: Path = PROJECT_ROOT) -> Path:
    return model_dir / f"{MODEL_PREFIX}{fingerprint(root)}.tar.gz"


# The Rasa server's environment for speed and memory (issue #8; measured in bench/speed_decisions.md). bench/speed.py
# runs the baseline without it.
RUN_TUNING_ENV: dict[str, str] = {
    # One thread for each TensorFlow op and between ops: DIET's per-message work is tiny, and TensorFlow's
    # thread pools (each as large as the machine's cores by default) took CPU from the event loop and the action
    # server on 2 cores.
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    # oneDNN's kernels buy nothing on matrices this small and keep caches of their own.
    "TF_ENABLE_ONEDNN_OPTS": "0",
    # glibc malloc: two arenas, not eight per core, and freed blocks over 64 kB handed back to the system
    # instead of kept for reuse (fixed thresholds: the dynamic ones only grow).
    "MALLOC_ARENA_MAX": "2",
    "MALLOC_MMAP_THRESHOLD_": "65536",
    "MALLOC_TRIM_THRESHOLD_": "131072",
}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a Rasa process: quiet TensorFlow, no telemetry (nothing leaves this machine)."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra or {})
    return env


def rasa_executable() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def ensure_model(model_dir: Path, root: Path = PROJECT_ROOT, force: bool = False) -> tuple[Path, bool]:
    """Return the model for the current project, training it first if missing. The bool says if it trained."""
    target = model_path(model_dir, root)
    if target.exists() and not force:
        os.utime(target)  # the newest file in models/ is the one `rasa test`, `rasa shell` etc. pick
        return target, False
    model_dir.mkdir(parents=True, exist_ok=True)
    command = [
        rasa_executable(),
        "train",
        "--config",
        str(root / "config.yml"),
        "--domain",
        str(root / "domain.yml"),
        "--data",
        str(root / "data"),
        "--out",
        str(model_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    completed = subprocess.run(command, cwd=root, env=child_env())
    if completed.returncode != 0 or not target.exists():
        raise TrainingFailed(f"`rasa train` failed with exit code {completed.returncode}")
    _prune(model_dir, keep=target)
    return target, True


def _prune(model_dir: Path, keep: Path) -> None:
    """Keep the newest few models, so a revert of the data does not retrain, but the folder stays small."""
    models = sorted(model_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][KEEP_MODELS - 1 :]:
        old.unlink(missing_ok=True)
