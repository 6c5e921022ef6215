"""A trained object kept in the Rasa model: written at `rasa train`, read when the model loads.

The safety gate's and the answerability classifiers are scikit-learn models inside a GraphComponent's resource
(joblib, scikit-learn's own pickling). A model trained without one (no examples) has no file: reading gives None.
"""

from __future__ import annotations

from typing import Any

import joblib
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def read_stored(model_storage: ModelStorage, resource: Resource, name: str) -> Any | None:
    """The object saved under `name` in the component's resource, or None when there is none."""
    try:
        with model_storage.read_from(resource) as directory:
            path = directory / name
            return joblib.load(path) if path.exists() else None
    except (ValueError, FileNotFoundError):  # Rasa's storage raises ValueError for a resource never written
        return None


def write_stored(model_storage: ModelStorage, resource: Resource, name: str, value: Any | None) -> None:
    """Save `value` under `name` in the component's resource (the resource is written even when value is None)."""
    with model_storage.write_to(resource) as directory:
        if value is not None:
            joblib.dump(value, directory / name)
