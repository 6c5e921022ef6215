"""bench/models.py's traffic and report (the benchmark itself needs trained models and real servers)."""

from __future__ import annotations

from collections import Counter

from bench.chat_load import SCRIPTS, LoadResult
from bench.models import ModelFigures, fact_scripts, markdown


def test_fact_traffic_mixes_visitors_questions_with_the_scripted_turns():
    scripts = fact_scripts(limit=6)
    assert len(scripts) == 2 and all(len(s) == 6 for s in scripts)
    scripted = {turn for script in SCRIPTS for turn in script}
    assert all(s[1] in scripted and s[0] not in scripted for s in scripts)


def test_the_report_gives_ratios_against_the_first_model():
    def figures(name: str, answered: int, memory: float, cpu_ms: float) -> ModelFigures:
        load = LoadResult("REST, scripted", 10, seconds=10.0, latencies=[0.1] * answered, errors=Counter())
        return ModelFigures(name, 20.0, memory, memory + 4, [load], [cpu_ms])

    report = markdown([figures("before", 300, 1200.0, 20.0), figures("after", 450, 800.0, 15.0)])
    assert "| after | REST, scripted | 10 | 45.0 | 1.50x | 100 | 100 | 15.0 | 0.75x | 0 |" in report
    assert "| after | 800 MB | 804 MB | 0.67x |" in report


def test_cpu_time_is_read_from_proc():
    import os

    from bench.models import cpu_seconds

    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(300_000))
    assert cpu_seconds(os.getpid()) > before
