"""The graph a message runs through, built once per list of targets.

Stock Rasa 3.6's `DaskGraphRunner.run` works out the minimal graph for its targets on every call, walking every
node's dependencies again without remembering what it has seen (`GraphSchema._all_dependencies_schema`): about 8%
of the Rasa server's CPU per message in a profile (py-spy, fact questions, 2026-12-07), more with every component
the pipeline gains. A runner's schema and nodes are fixed once the model is loaded (a new model gets a new
runner), so the dask graph for a list of targets is kept on the runner and copied before the inputs are added.
"""

from __future__ import annotations

import logging
from typing import Any

import dask
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

logger = logging.getLogger(__name__)

_MARK = "_ijm_graph_per_targets"


def graph_for(runner: DaskGraphRunner, targets: list[str]) -> dict[str, Any]:
    """The runner's dask graph for `targets`, built on first use (a fresh dict each call: inputs are added to it)."""
    graphs: dict[tuple[str, ...], dict[str, Any]] = runner.__dict__.setdefault(_MARK, {})
    key = tuple(targets)
    graph = graphs.get(key)
    if graph is None:
        graph = graphs[key] = runner._build_dask_graph(runner._graph_schema.minimal_graph_schema(targets))
    return dict(graph)


def run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict:
    """`DaskGraphRunner.run`, with the graph for the targets built once."""
    run_targets = targets if targets else self._graph_schema.target_names
    run_graph = graph_for(self, run_targets)
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    try:
        return dict(dask.get(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


setattr(run, _MARK, True)


def install() -> None:
    DaskGraphRunner.run = run  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(DaskGraphRunner.run, _MARK, False))
