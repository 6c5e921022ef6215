"""The speed-ups of the Rasa server's dialogue side (bot/rasa_speedups/) give Rasa's own answers: the rules the
RulePolicy finds, the graph a message runs through and the class of an event are compared with the stock methods
on the project's trained model."""

from __future__ import annotations

import json
import random
import tarfile
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event

import bot.channels  # noqa: F401 (installs the speed-ups, as the Rasa server does when it loads our channels)
from bot import rasa_speedups
from bot.model import model_path
from bot.rasa_speedups import event_classes, graph_runs, rule_lookup
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def model_files() -> dict[str, dict]:
    """The trained model's rule lookup and metadata (`make model` trains it before the tests)."""
    path = model_path(PROJECT_ROOT / "models")
    assert path.exists(), f"no trained model at {path}: run `make model`"
    wanted = {"rule_policy.json": None, "metadata.json": None}
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            name = Path(member.name).name
            if name in wanted and (name != "rule_policy.json" or "RulePolicy" in member.name):
                wanted[name] = json.load(archive.extractfile(member))  # type: ignore[arg-type]
    return wanted  # type: ignore[return-value]


def test_all_are_installed_by_loading_our_channels():
    assert rasa_speedups.installed()
    assert RulePolicy._get_possible_keys is rule_lookup.get_possible_keys
    assert DaskGraphRunner.run is graph_runs.run


def _conversations(lookup: dict, count: int) -> list[list[dict]]:
    """Each rule's own steps, and conversations made of other rules' steps with the last step's intent or
    action changed: states a real conversation has, in orders rules do and do not expect."""
    rules = [RulePolicy._rule_key_to_state(key) for key in lookup]
    intents = sorted({s.get("user", {}).get("intent") for r in rules for s in r if s.get("user", {}).get("intent")})
    actions = sorted(
        {s["prev_action"]["action_name"] for r in rules for s in r if "action_name" in s.get("prev_action", {})}
    )
    generator = random.Random(1997)
    found = [list(rule) for rule in rules]
    for _ in range(count):
        states = [dict(s) for rule in generator.sample(rules, generator.randint(1, 3)) for s in rule]
        last = json.loads(json.dumps(states[-1]))
        if generator.random() < 0.5 and "user" in last:
            last["user"]["intent"] = generator.choice(intents)
        elif "prev_action" in last:
            last["prev_action"] = {"action_name": generator.choice(actions)}
        found.append([*states[:-1], last])
    return found


@pytest.mark.parametrize("table", ["rules", "rules_for_loop_unhappy_path"])
def test_the_rules_found_are_the_stock_methods_own(model_files, table):
    lookup = model_files["rule_policy.json"]["lookup"][table]
    assert len(lookup) > 50
    policy = RulePolicy.__new__(RulePolicy)
    matched = 0
    for states in _conversations(lookup, 1500):
        ours = rule_lookup.get_possible_keys(policy, lookup, states)
        assert ours == rule_lookup._original(policy, lookup, states)
        matched += bool(ours)
    assert matched > len(lookup)  # most conversations fit some rule: the comparison is not of empty sets
    assert rule_lookup.get_possible_keys(policy, lookup, []) == set(lookup)


def test_the_index_follows_a_changed_lookup(model_files):
    lookup = dict(model_files["rule_policy.json"]["lookup"]["rules"])
    policy = RulePolicy.__new__(RulePolicy)
    states = RulePolicy._rule_key_to_state(next(iter(lookup)))
    assert rule_lookup.get_possible_keys(policy, lookup, states)
    lookup.clear()
    assert rule_lookup.get_possible_keys(policy, lookup, states) == set()


def _runner(metadata: dict) -> DaskGraphRunner:
    """A runner over the model's prediction graph, its nodes named rather than loaded (only the graph's shape
    is compared)."""
    runner = DaskGraphRunner.__new__(DaskGraphRunner)
    runner._graph_schema = GraphSchema.from_dict(metadata["predict_schema"])
    runner._instantiated_nodes = {name: f"node:{name}" for name in runner._graph_schema.nodes}  # type: ignore
    return runner


def test_the_graph_for_a_message_is_the_stock_one_and_each_run_gets_its_own_copy(model_files):
    metadata = model_files["metadata.json"]
    runner = _runner(metadata)
    schema = runner._graph_schema
    for targets in (
        [metadata["nlu_target"]],
        [metadata["core_target"]],
        [metadata["nlu_target"], metadata["core_target"]],
    ):
        assert len(schema.minimal_graph_schema(targets).nodes) >= 5
        stock = runner._build_dask_graph(schema.minimal_graph_schema(targets))
        first = graph_runs.graph_for(runner, targets)
        assert first == stock
        first["__inputs__"] = ("added", "by a run")
        assert graph_runs.graph_for(runner, targets) == stock


def test_every_event_class_is_found_by_its_name_as_rasa_finds_it():
    names = {cls.type_name for cls in [Event, *Event.__subclasses__()] for cls in _all(cls)} - {"event"}
    assert len(names) > 20
    for name in names:
        assert event_classes.resolve_by_type(name) is event_classes._original(name)
        assert Event.resolve_by_type(name) is event_classes._original(name)
    assert Event.resolve_by_type("no such event", default=Event) is Event
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no such event")


def _all(cls: type) -> list[type]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _all(child))]


def test_rules_the_index_cannot_place_are_always_tested():
    """The project's rules all name the action before them; a conversation-start rule or one on a bot text does not."""
    start = [{"user": {"intent": "greet"}}]
    on_text = [{"prev_action": {"action_text": "Hello!"}, "user": {"intent": "greet"}}]
    named = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]
    lookup = {json.dumps(rule): "utter_greet" for rule in (start, on_text, named)}
    policy = RulePolicy.__new__(RulePolicy)
    for states in (
        start,
        on_text,
        named,
        [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "bye"}}],
    ):
        ours = rule_lookup.get_possible_keys(policy, lookup, states)
        assert ours == rule_lookup._original(policy, lookup, states)
    assert rule_lookup.get_possible_keys(policy, lookup, start) == {json.dumps(start)}
    assert rule_lookup.get_possible_keys(policy, lookup, on_text) == {json.dumps(on_text)}
