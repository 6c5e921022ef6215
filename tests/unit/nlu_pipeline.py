"""A trainable component of config.yml's pipeline, configured and trained as `rasa train` does, for unit tests."""

from __future__ import annotations

from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data

from tests.conftest import ROOT


def pipeline_entry(name_suffix: str) -> dict:
    """The component's entry in config.yml (its name ends with `name_suffix`)."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    return next(c for c in config["pipeline"] if c["name"].endswith(name_suffix))


def trained_on_project_data(component: Any, config: dict, storage: LocalModelStorage, resource: str) -> Any:
    """`component.create(...)` then `train` on data/nlu, saved in `storage` under `resource`."""
    created = component.create(config, storage, Resource(resource), ExecutionContext(GraphSchema({}), "test"))
    created.train(load_data(str(ROOT / "data" / "nlu")))
    return created
