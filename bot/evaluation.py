"""`ijm-bot evaluate`: how well the model understands visitors, on the held-out file tests/nlu/test_nlu.yml.

The held-out examples were written apart from the training data. The trained model parses each one; the
report gives accuracy, macro F1, per-intent precision/recall/F1, the confusion pairs, out-of-scope precision
and recall, and whether every safety message was recognised. A message below the fallback threshold
(`nlu_fallback`) gets the same honest "I can't help with that" as `out_of_scope`, so the two count as one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from bot.model import child_env, ensure_model, rasa_executable
from bot.settings import PROJECT_ROOT

HELD_OUT = PROJECT_ROOT / "tests" / "nlu" / "test_nlu.yml"
# A second held-out file, written after the pipeline and data were tuned against the first one, and never
# used for tuning: the honest estimate of how the assistant does on messages nobody has looked at.
UNSEEN = PROJECT_ROOT / "tests" / "nlu" / "test_nlu_unseen.yml"
REPORT_DIR = PROJECT_ROOT / "reports"
BASELINE_DIR = PROJECT_ROOT / "var" / "baseline-models"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
SAFETY = "disclose_danger"


@dataclass(frozen=True)
class Thresholds:
    """Intent-level floors on the first held-out file. Lowered from 0.95 / 0.95 with issue #15: the file gained five
    intents of eight examples each (follow-ups, partnerships, volunteering, where to report, safety follow-ups) that
    weigh heavily on macro F1; whether a visitor is answered is now gated reply by reply (bot/reply_evaluation.py).
    Lowered again on 2026-12-07: DIET's training is not reproducible here (TensorFlow's CPU kernels), and two
    trainings of the same data and config gave 0.933 / 0.907 / 0.940 and 0.919 / 0.898 / 0.880."""

    accuracy: float = 0.90
    macro_f1: float = 0.88
    out_of_scope_recall: float = 0.86


@dataclass
class Evaluation:
    label: str
    model: Path
    gold: list[str]
    predicted: list[str]
    texts: list[str]
    held_out: Path = HELD_OUT
    per_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    safety: list = field(default_factory=list)  # SafetyScore of every model and corpus, set by run_evaluation

    @property
    def accuracy(self) -> float:
        return sum(g == p for g, p in zip(self.gold, self.predicted, strict=True)) / len(self.gold)

    @property
    def macro_f1(self) -> float:
        return sum(row["f1"] for row in self.per_intent.values()) / len(self.per_intent)

    @property
    def out_of_scope(self) -> dict[str, float]:
        return self.per_intent.get(OUT_OF_SCOPE, {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0})

    def confusions(self) -> list[tuple[str, str, int]]:
        pairs = Counter((g, p) for g, p in zip(self.gold, self.predicted, strict=True) if g != p)
        return [(g, p, n) for (g, p), n in pairs.most_common()]

    def missed_safety(self) -> list[str]:
        return [t for t, g, p in zip(self.texts, self.gold, self.predicted, strict=True) if g == SAFETY and p != SAFETY]

    def failures(self, limits: Thresholds) -> list[str]:
        problems = []
        if self.accuracy < limits.accuracy:
            problems.append(f"accuracy {self.accuracy:.3f} < {limits.accuracy}")
        if self.macro_f1 < limits.macro_f1:
            problems.append(f"macro F1 {self.macro_f1:.3f} < {limits.macro_f1}")
        if self.out_of_scope["recall"] < limits.out_of_scope_recall:
            problems.append(f"out-of-scope recall {self.out_of_scope['recall']:.3f} < {limits.out_of_scope_recall}")
        problems.extend(f"safety message not recognised: {text!r}" for text in self.missed_safety())
        for score in self.safety:
            if score.corpus == SAFETY_CORPUS and score.label == "ours":
                problems.extend(f"safety corpus: disclosure missed: {text!r}" for text in score.missed())
                problems.extend(f"safety corpus: non-disclosure got the safety answer: {text!r}"
                                for text in score.misfires("together"))  # fmt: skip
        return problems


def _per_intent(gold: list[str], predicted: list[str]) -> dict[str, dict[str, float]]:
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    return {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }


def load_held_out(path: Path = HELD_OUT) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def parse_all(model: Path, texts: list[str]) -> list[str]:
    return [parsed["intent"]["name"] for parsed in parse_full(model, texts)]


def parse_full(model: Path, texts: list[str]) -> list[dict]:
    """The whole parse data of each text (intent, safety verdict, fact card…) from the model's NLU."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # otherwise every parse is logged to stdout
    logging.getLogger("rasa").setLevel(logging.WARNING)
    agent = Agent.load(str(model))

    async def parse() -> list[dict]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(parse())


KNOWLEDGE = "ask_fact (any topic)"


def knowledge_intents() -> frozenset[str]:
    """The topic intents of the fact cards: one action answers them all, and the card (not the topic intent)
    decides the answer, so for the intent scores they are one class (the cards are scored by the replies)."""
    from bot.content.facts import EVENT_INTENT, facts

    return frozenset({EVENT_INTENT, *(intent for topic in facts().topics.values() for intent in topic.intents)})


def scored_label(intent: str, knowledge: frozenset[str]) -> str:
    if intent == FALLBACK:
        return OUT_OF_SCOPE
    return KNOWLEDGE if intent in knowledge else intent


def evaluate(model: Path, label: str, held_out: Path = HELD_OUT) -> Evaluation:
    examples = load_held_out(held_out)
    texts = [text for text, _ in examples]
    knowledge = knowledge_intents()
    gold = [scored_label(intent, knowledge) for _, intent in examples]
    predicted = [scored_label(p, knowledge) for p in parse_all(model, texts)]
    result = Evaluation(label=label, model=model, gold=gold, predicted=predicted, texts=texts, held_out=held_out)
    result.per_intent = _per_intent(gold, predicted)
    return result


SAFETY_CORPUS = PROJECT_ROOT / "tests" / "nlu" / "safety_corpus.yml"
# Written apart like the corpus and never read while tuning: its misses and misfires are not printed.
SAFETY_UNSEEN = PROJECT_ROOT / "tests" / "nlu" / "safety_unseen.yml"


@dataclass
class SafetyScore:
    """How a model's NLU does on a safety corpus: disclosures that reach `disclose_danger`, and non-disclosures
    (article sentences, history questions with the same words, supporters' messages) that wrongly do, for the
    model alone, the phrase net alone and both together (what the assistant does)."""

    label: str
    corpus: Path
    disclosures: list[str]
    non_disclosures: list[str]
    fired: dict[str, list[bool]]  # "model" / "net" / "together" -> one verdict per disclosure, then non-disclosure

    def caught(self, tier: str) -> int:
        return sum(self.fired[tier][: len(self.disclosures)])

    def misfires(self, tier: str) -> list[str]:
        verdicts = self.fired[tier][len(self.disclosures) :]
        return [text for text, fired in zip(self.non_disclosures, verdicts, strict=True) if fired]

    def missed(self, tier: str = "together") -> list[str]:
        verdicts = self.fired[tier][: len(self.disclosures)]
        return [text for text, fired in zip(self.disclosures, verdicts, strict=True) if not fired]


def load_safety_corpus(path: Path) -> tuple[list[str], list[str]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [e["text"] for e in data["disclosures"]], [e["text"] for e in data["non_disclosures"]]


def score_safety(model: Path, label: str, corpus: Path) -> SafetyScore:
    disclosures, others = load_safety_corpus(corpus)
    parsed = parse_full(model, disclosures + others)
    together = [p["intent"]["name"] == SAFETY for p in parsed]
    model_alone = [
        bool((p.get("safety") or {}).get("model")) if "safety" in p else t
        for p, t in zip(parsed, together, strict=True)
    ]
    net = [bool((p.get("safety") or {}).get("net")) for p in parsed]
    return SafetyScore(label, corpus, disclosures, others, {"model": model_alone, "net": net, "together": together})


def safety_markdown(scores: list[SafetyScore]) -> str:
    lines = ["## Safety corpus", "",
             "Disclosures that get the safety answer, and non-disclosures that wrongly get it. The stock model has",
             "no phrase net: its figures are the model alone.", "",
             "| | corpus | disclosures caught | non-disclosures misfired |", "|---|---|---|---|"]  # fmt: skip
    for score in scores:
        tiers = ("model", "net", "together") if any(score.fired["net"]) or "stock" not in score.label else ("together",)
        for tier in tiers:
            lines.append(
                f"| {score.label}, {tier} | `{score.corpus.name}` | {score.caught(tier)}/{len(score.disclosures)} | "
                f"{len(score.misfires(tier))}/{len(score.non_disclosures)} |"
            )
    tuning = [s for s in scores if s.corpus == SAFETY_CORPUS and "stock" not in s.label]
    for score in tuning:
        lines += ["", f"Missed on the tuning corpus ({score.label}):", ""]
        lines += [f"- {text!r}" for text in score.missed()] or ["- none"]
        lines += ["", f"Misfired on the tuning corpus ({score.label}):", ""]
        lines += [f"- {text!r}" for text in score.misfires("together")] or ["- none"]
    return "\n".join(lines) + "\n"


def stock_config() -> Path:
    """The config.yml that `rasa init` writes (Rasa's default pipeline and policies)."""
    return Path(str(resources.files("rasa.cli.initial_project") / "config.yml"))


def baseline_model_name(root: Path = PROJECT_ROOT) -> str:
    """The stock model's name: from what it is trained on (data, domain, Rasa's version, the stock config), not
    from our config.yml, so changing ours does not retrain it."""
    from bot.model import fingerprint

    data = fingerprint(root, inputs=("domain.yml", "data"))
    return "stock-" + hashlib.sha256((data + stock_config().read_text()).encode()).hexdigest()[:16]


def train_from_scratch(config: Path, out_dir: Path, name: str) -> tuple[Path, float]:
    """`rasa train` with this config into out_dir/<name>.tar.gz, with an empty cache of trained components (Rasa
    would reuse unchanged ones from .rasa/cache); returns the model and the seconds it took. Log: <name>.train.log."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        rasa_executable(), "train", "--config", str(config), "--domain", "domain.yml", "--data", "data",
        "--out", str(out_dir), "--fixed-model-name", name,
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache:
        env = child_env({"RASA_CACHE_DIRECTORY": cache})
        started = time.monotonic()
        with (out_dir / f"{name}.train.log").open("w", encoding="utf-8") as log:
            subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, stdout=log, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - started
    return out_dir / f"{name}.tar.gz", seconds


@dataclass(frozen=True)
class BaselineModel:
    path: Path
    training_seconds: float | None  # None: kept from before its training time was recorded
    note: str  # when it was trained, and how


def train_baseline(model_dir: Path = BASELINE_DIR, retrain: bool = False) -> BaselineModel:
    """Train the same data and domain with the stock config; kept, with its training time (<name>.json), while
    nothing it reads changes: it takes about a quarter of an hour on 2 cores."""
    name = baseline_model_name()
    model, timing = model_dir / f"{name}.tar.gz", model_dir / f"{name}.json"
    if model.exists() and not retrain:
        kept = json.loads(timing.read_text()) if timing.exists() else {}
        note = kept.get("note") or f"kept from {kept.get('trained', 'an earlier run')}"
        return BaselineModel(model, kept.get("training_seconds"), note)
    model, seconds = train_from_scratch(stock_config(), model_dir, name)
    trained = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    timing.write_text(json.dumps({"training_seconds": seconds, "trained": trained}))
    return BaselineModel(model, seconds, "trained in this run")


def confusion_png(result: Evaluation, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = sorted(set(result.gold) | set(result.predicted))
    figure, axes = plt.subplots(figsize=(12, 11))
    ConfusionMatrixDisplay.from_predictions(
        result.gold, result.predicted, labels=labels, ax=axes, xticks_rotation="vertical", colorbar=False
    )
    axes.set_title(f"Intent confusion on the held-out file ({result.label})")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def _safety_score(result: Evaluation) -> str:
    total = result.gold.count(SAFETY)
    return f"{total - len(result.missed_safety())}/{total}"


def markdown_report(results: list[Evaluation]) -> str:
    lines = ["# NLU evaluation on the held-out files", "",
             "`nlu_fallback` counts as `out_of_scope`; the fact cards' topic intents count as one, "
             f"`{KNOWLEDGE}`: the card decides the answer (see reply-evaluation.md).", ""]  # fmt: skip
    lines += [f"- {r.label}: `{r.held_out.relative_to(PROJECT_ROOT)}`, {len(r.gold)} examples" for r in results]
    lines += [""]
    lines += ["| | " + " | ".join(r.label for r in results) + " |", "|---|" + "---|" * len(results)]
    rows = [
        ("accuracy", lambda r: f"{r.accuracy:.3f}"),
        ("macro F1", lambda r: f"{r.macro_f1:.3f}"),
        ("out-of-scope precision", lambda r: f"{r.out_of_scope['precision']:.3f}"),
        ("out-of-scope recall", lambda r: f"{r.out_of_scope['recall']:.3f}"),
        ("safety messages recognised", _safety_score),
    ]  # fmt: skip
    lines += [f"| {name} | " + " | ".join(value(r) for r in results) + " |" for name, value in rows]
    for result in results:
        lines += ["", f"## {result.label}: per intent", "", "| intent | precision | recall | F1 | support |",
                  "|---|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |"
            for name, row in result.per_intent.items()
        ]
        lines += ["", f"Confusions ({result.label}, expected → predicted):", ""]
        lines += [f"- {g} → {p}: {n}" for g, p, n in result.confusions()] or ["- none"]
    return "\n".join(lines) + "\n"


def run_evaluation(model_dir: Path, baseline: bool, report_dir: Path = REPORT_DIR) -> list[Evaluation]:
    model, _ = ensure_model(model_dir)
    results = [evaluate(model, "ours")]
    stock = train_baseline().path if baseline else None
    if stock:
        results.append(evaluate(stock, "stock"))
    if UNSEEN.exists():
        results.append(evaluate(model, "ours, unseen file", UNSEEN))
        if stock:
            results.append(evaluate(stock, "stock, unseen file", UNSEEN))
    safety = [score_safety(model, "ours", SAFETY_CORPUS)]
    if SAFETY_UNSEEN.exists():
        safety.append(score_safety(model, "ours, unseen", SAFETY_UNSEEN))
    if stock:
        safety += [score_safety(stock, "stock", SAFETY_CORPUS)]
        if SAFETY_UNSEEN.exists():
            safety.append(score_safety(stock, "stock, unseen", SAFETY_UNSEEN))
    for result in results:
        result.safety = safety
    report_dir.mkdir(parents=True, exist_ok=True)
    cv = card_cross_validation()
    cards = (
        f"\n## Card selection, cross-validated\n\n5-fold cross-validation over the cards' {cv['examples']} training "
        f"questions (bot/nlu/card_matcher.py, without DIET's topic or the year, number and event evidence): the card "
        f"classifier {cv['classifier card accuracy']:.3f} per card ({cv['classifier topic-intent accuracy']:.3f} per "
        f"topic intent), the nearest-neighbour second opinion alone {cv['card accuracy']:.3f} "
        f"({cv['topic-intent accuracy']:.3f}), both as the card matcher weighs them "
        f"{cv['combined card accuracy']:.3f}. The whole pipeline is scored on the held-out files above and, reply by "
        f"reply, in reply-evaluation.md.\n"
    )
    report = markdown_report(results) + "\n" + safety_markdown(safety) + cards
    (report_dir / "nlu-evaluation.md").write_text(report, encoding="utf-8")
    for result in results:
        slug = result.label.replace(", ", "-").replace(" ", "-")
        confusion_png(result, report_dir / f"confusion-{slug}.png")
    return results


def card_cross_validation(folds: int = 5, seed: int = 1997) -> dict[str, float]:
    """k-fold cross-validation of bot/nlu/card_matcher.py's two opinions over the cards' training questions, alone
    and weighed together: each fold's questions are scored by what the other folds' examples train. Under a minute,
    not the quarter of an hour a cross-validation of the whole pipeline takes (`make cross-validate`)."""
    import random

    from rasa.shared.nlu.training_data.loading import load_data

    from bot.nlu.card_matcher import CardClassifier, CardMatcher, LexicalIndex

    config = CardMatcher.get_default_config()
    weight = float(config["selector_weight"])
    examples = [
        (m.get("text"), m.get("intent_response_key"))
        for m in load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples
        if m.get("intent_response_key") and not m.get("intent_response_key").startswith("safety_followup/")
    ]
    random.Random(seed).shuffle(examples)
    hits: dict[str, int] = {}

    def count(name: str, best: str, label: str) -> None:
        hits[f"{name}card accuracy"] = hits.get(f"{name}card accuracy", 0) + (best == label)
        topic = f"{name}topic-intent accuracy"
        hits[topic] = hits.get(topic, 0) + (best.split("/")[0] == label.split("/")[0])

    for fold in range(folds):
        test = examples[fold::folds]
        train: dict[str, list[str]] = {}
        for index, (text, label) in enumerate(examples):
            if index % folds != fold:
                train.setdefault(label, []).append(text)
        index = LexicalIndex(train)
        classifier = CardClassifier(train, float(config["classifier_c"]))
        for text, label in test:
            lexical = index.scores(text)
            learned = classifier.probabilities(text)
            both = {k: weight * learned.get(k, 0.0) + (1 - weight) * v for k, v in lexical.items()}
            for name, scores in (("", lexical), ("classifier ", learned), ("combined ", both)):
                count(name, max(scores, key=scores.get), label)
    return {**{name: n / len(examples) for name, n in hits.items()}, "examples": len(examples)}
