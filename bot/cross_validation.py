"""The figures of `make cross-validate` (`rasa test nlu --cross-validation`), read from its log, as a table.

Rasa logs the mean and standard deviation over the folds of each metric, for the intents (DIET, after the
fallback classifier, the card matcher and the safety override) and, for a pipeline with a ResponseSelector (the
stock config; ours has none since 2026-12-06), for the response selection. Which card our card matcher picks is
cross-validated by `ijm-bot evaluate` (bot/evaluation.py, card_cross_validation). This reads those lines and writes
reports/cross-validation.md.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

SECTIONS = {
    "Intent evaluation results": "intents",
    "Entity evaluation results": "entities",
    "Response Selection evaluation results": "cards (response selection)",
}
METRIC = re.compile(r"\b(train|test) (Accuracy|F1-score|Precision): ([0-9.]+) \(([0-9.]+)\)")


def figures(log: str) -> dict[str, dict[str, tuple[float, float]]]:
    """{section: {"test Accuracy": (mean, std), ...}} from Rasa's cross-validation log."""
    found: dict[str, dict[str, tuple[float, float]]] = {}
    section = None
    for line in log.splitlines():
        heading = next((name for text, name in SECTIONS.items() if text in line), None)
        if heading is not None:
            section = heading
            found.setdefault(section, {})
            continue
        match = METRIC.search(line)
        if section is not None and match:
            found[section][f"{match[1]} {match[2]}"] = (float(match[3]), float(match[4]))
    return found


def markdown(found: dict[str, dict[str, tuple[float, float]]], folds: int = 3) -> str:
    lines = [f"# Cross-validation of the whole pipeline ({folds} folds)", "",
             "| | test accuracy | test F1 | test precision | train accuracy |", "|---|---|---|---|---|"]  # fmt: skip
    for section, metrics in found.items():
        if section == "entities":
            continue  # regex/lookup extractor: exact by construction, and logged per extractor

        def cell(key: str, metrics: dict[str, tuple[float, float]] = metrics) -> str:
            return f"{metrics[key][0]:.3f} ± {metrics[key][1]:.3f}" if key in metrics else "-"

        lines.append(f"| {section} | {cell('test Accuracy')} | {cell('test F1-score')} | "
                     f"{cell('test Precision')} | {cell('train Accuracy')} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    log = Path(argv[0] if argv else PROJECT_ROOT / "var" / "cross-validation.log")
    found = figures(log.read_text(encoding="utf-8", errors="replace"))
    if not found:
        print(f"no cross-validation results in {log}", file=sys.stderr)
        return 1
    report = markdown(found)
    out = PROJECT_ROOT / "reports" / "cross-validation.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
