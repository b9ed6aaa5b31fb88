"""The faster resolver returns exactly what the resolver before it did, on any plan.

The oracle is the previous implementation, kept verbatim in ``reference/graph_before.py``:
batches, task order, cycles, missing keys, blocked tasks, the critical path, ranks and each
task's hard dependencies must all be equal — including every tie-break.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.cli.planfile import read_plan
from yokeflow.core import graph

ROOT = Path(__file__).resolve().parents[2]


def _reference() -> ModuleType:
    path = Path(__file__).with_name("reference") / "graph_before.py"
    spec = importlib.util.spec_from_file_location("graph_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


before = _reference()

Raw = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@st.composite
def raw_plans(draw: st.DrawFn) -> Raw:
    """Tasks and epics as plain data: cycles, unknown keys, self and repeated edges allowed."""
    n = draw(st.integers(0, 24))
    keys = [f"t{i:02d}" for i in range(n)]
    epic_keys = [f"e{i}" for i in range(draw(st.integers(1, 5)))]
    named = [*keys, "ghost"]
    tasks = [
        {
            "key": key,
            "epic": draw(st.sampled_from(epic_keys)),
            "depends_on": tuple(draw(st.lists(st.sampled_from(named), max_size=4))),
            "soft_depends_on": tuple(
                draw(st.lists(st.sampled_from(named), max_size=2 if draw(st.booleans()) else 0))
            ),
            "estimate_minutes": float(draw(st.integers(1, 6))),
            "priority": draw(st.integers(0, 2)),
        }
        for key in keys
    ]
    epics = [
        {
            "key": key,
            "priority": draw(st.integers(0, 2)),
            "depends_on": tuple(
                draw(st.lists(st.sampled_from([*epic_keys, "nowhere"]), max_size=2))
            ),
        }
        for key in epic_keys
        if draw(st.booleans())  # an epic named only by its tasks is priority 0, no dependencies
    ]
    return tasks, epics


def _both(raw: Raw) -> tuple[Any, Any]:
    tasks, epics = raw
    new = graph.resolve(
        [graph.GraphTask(**t) for t in tasks], [graph.GraphEpic(**e) for e in epics]
    )
    old = before.resolve(
        [before.GraphTask(**t) for t in tasks], [before.GraphEpic(**e) for e in epics]
    )
    return new, old


def _assert_same(new: Any, old: Any) -> None:
    assert new.batches == old.batches
    assert new.task_order == old.task_order
    assert new.circular_deps == old.circular_deps
    assert [m.to_dict() for m in new.missing_deps] == [m.to_dict() for m in old.missing_deps]
    assert new.blocked == old.blocked
    assert new.critical_path() == old.critical_path()
    assert new.critical_path_length() == old.critical_path_length()
    assert new.to_dict() == old.to_dict()
    assert new.problems() == old.problems()
    assert list(new.ranks().items()) == list(old.ranks().items())
    measured = {k: 1.5 + (i % 3) for i, k in enumerate(list(new.tasks)[::2])}
    assert list(new.ranks(measured).items()) == list(old.ranks(measured).items())
    for key in new.tasks:
        assert new.hard_dependencies(key) == old.hard_dependencies(key)
    assert list(new.epics) == list(old.epics)


@settings(max_examples=250, deadline=None)
@given(raw_plans())
def test_every_output_is_unchanged(raw: Raw) -> None:
    _assert_same(*_both(raw))


def test_large_random_plans_are_unchanged() -> None:
    for seed in range(3):
        rng = random.Random(seed)
        tasks = [
            {
                "key": f"t{i}",
                "epic": f"e{i // 40}",
                "depends_on": tuple(
                    f"t{j}" for j in rng.sample(range(max(0, i - 300), i), min(i, 5))
                ),
                "soft_depends_on": tuple(f"t{rng.randrange(1500)}" for _ in range(seed % 2)),
                "estimate_minutes": float(rng.randint(1, 30)),
                "priority": rng.randint(0, 3),
            }
            for i in range(1500)
        ]
        epics = [
            {"key": f"e{e}", "priority": rng.randint(0, 3), "depends_on": (f"e{e - 2}",)}
            for e in range(2, 38, 5)
        ]
        _assert_same(*_both((tasks, epics)))


def test_example_plans_resolve_as_before() -> None:
    for path in sorted((ROOT / "examples" / "plans").glob("*.yaml")):
        plan = read_plan(path)
        _assert_same(graph.graph_from_plan(plan), before.graph_from_plan(plan))
