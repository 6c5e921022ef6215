"""Reading Rasa's cross-validation log into the figures `make cross-validate` reports."""

from __future__ import annotations

from bot.cross_validation import figures, markdown

LOG = """\
2026-12-04 21:10:01 INFO     rasa.model_testing  - Intent evaluation results
2026-12-04 21:10:01 INFO     rasa.nlu.test  - train Accuracy: 0.998 (0.001)
2026-12-04 21:10:01 INFO     rasa.nlu.test  - train F1-score: 0.998 (0.001)
2026-12-04 21:10:01 INFO     rasa.nlu.test  - test Accuracy: 0.912 (0.010)
2026-12-04 21:10:01 INFO     rasa.nlu.test  - test F1-score: 0.905 (0.012)
2026-12-04 21:10:01 INFO     rasa.nlu.test  - test Precision: 0.915 (0.008)
2026-12-04 21:10:01 INFO     rasa.model_testing  - Response Selection evaluation results
2026-12-04 21:10:01 INFO     rasa.nlu.test  - test Accuracy: 0.701 (0.020)
"""


def test_the_means_and_deviations_are_read_per_section():
    found = figures(LOG)
    assert found["intents"]["test Accuracy"] == (0.912, 0.010)
    assert found["intents"]["train Accuracy"] == (0.998, 0.001)
    assert found["cards (response selection)"] == {"test Accuracy": (0.701, 0.020)}
    table = markdown(found)
    assert "| intents | 0.912 ± 0.010 | 0.905 ± 0.012 | 0.915 ± 0.008 | 0.998 ± 0.001 |" in table
    assert "| cards (response selection) | 0.701 ± 0.020 | - | - | - |" in table


def test_a_log_without_results_has_no_figures():
    assert figures("Traceback (most recent call last):\n  ...") == {}
