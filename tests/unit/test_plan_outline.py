"""The plan outline accepts only what the plan's models accept, and reads it the same way.

Hypothesis mutates a valid plan's data with the values that tell the two apart — strings with
white space around them (Unicode's and Python's own, which differ), numbers written as text,
booleans where numbers go, integral floats, huge and non-finite numbers, dependencies written
as ``{key, type}``, pinned models, duplicate keys, epic cycles — and compares: whenever the
outline accepts, the models accept too and the resolver's input built from them is equal.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core import plan_outline, plan_text
from yokeflow.core.graph import GraphEpic, GraphTask, graph_from_plan, resolve
from yokeflow.core.plan import Plan, plan_from_data
from yokeflow.errors import PlanError

ROOT = Path(__file__).resolve().parents[2]

VALID: dict[str, Any] = {
    "name": "shop",
    "description": "A small shop.",
    "epics": [
        {
            "key": "db",
            "name": "Database",
            "priority": 1,
            "tasks": [
                {"key": "schema", "title": "Schema", "estimate_minutes": 10},
                {
                    "key": "seed",
                    "title": "Seed",
                    "description": "Rows.\n",
                    "depends_on": ["schema"],
                    "type": "database",
                    "model": "haiku",
                },
            ],
        },
        {
            "key": "api",
            "name": "API",
            "depends_on": ["db"],
            "tasks": [
                {
                    "key": "orders",
                    "title": "Orders",
                    "depends_on": [{"key": "seed", "type": "soft"}, "schema"],
                    "dependency_type": "soft",
                    "priority": -2,
                    "expects_changes": False,
                    "estimate_minutes": 2.5,
                },
                {"key": "users", "title": "Users", "depends_on": ["ghost"]},
            ],
        },
    ],
}

junk = st.sampled_from([None, True, 0, 5, 2.0, "", " ", "3", [], {}, ["x"], {"key": "x"}])
keys = st.sampled_from(
    ["schema", "seed", "orders", "users", "db", "api", "ghost", " schema", "seed\n", "x\x1c",
     "bad key", "-x", "a" * 100, "a" * 101, "", 5, None, True]
)  # fmt: skip
texts = st.one_of(
    st.text(alphabet=" \t\n\x0b\x1c\x1f\x85\xa0\u2028\u3000ab", max_size=4),
    st.sampled_from(["haiku", "opus ", " sonnet", "claude-opus-4-5", "gpt-4", "database"]),
    st.sampled_from(["a\x1c", "\x1fb", "a\u3000", " b\n", "\x85a\xa0", "\u2028"]),
    junk,
)
numbers = st.one_of(
    st.integers(min_value=-(2**31) - 1, max_value=2**31),
    st.sampled_from([True, False, 10**400, 0.5, 2.0, 1e6, 1e6 + 1, 0.0, -1.0, 1e-300]),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), "3", "2.5", " 4 "]),
    junk,
)
kinds = st.one_of(st.sampled_from(["hard", "soft", "Hard", " soft", "soft "]), junk)
dependency_lists = st.lists(
    st.one_of(
        keys,
        st.fixed_dictionaries({"key": keys}, optional={"type": kinds}),
        st.fixed_dictionaries({"key": keys, "colour": st.just(1)}),
    ),
    max_size=3,
)
VALUES = {
    "key": keys,
    "name": texts,
    "title": texts,
    "description": texts,
    "type": st.one_of(texts, kinds),
    "model": texts,
    "priority": numbers,
    "estimate_minutes": numbers,
    "depends_on": st.one_of(dependency_lists, junk),
    "dependency_type": kinds,
    "expects_changes": st.one_of(st.booleans(), junk),
    "epics": junk,
    "tasks": junk,
    "colour": junk,
}
"""Values per field: valid ones, and the ones where the outline and the models could part."""


FIELDS = {
    "plan": ["name", "description", "epics"],
    "epic": ["key", "name", "description", "priority", "depends_on", "tasks"],
    "task": ["key", "title", "description", "depends_on", "dependency_type", "estimate_minutes",
             "priority", "type", "expects_changes", "model"],
    "dependency": ["key", "type"],
}  # fmt: skip


def _objects(data: Any) -> list[tuple[str, dict[str, Any], list[Any]]]:
    """Every mapping of the plan: its kind, itself and the list holding it (the plan: [])."""
    out: list[tuple[str, dict[str, Any], list[Any]]] = [("plan", data, [])]
    epics = data.get("epics")
    for epic in epics if isinstance(epics, list) else []:
        if not isinstance(epic, dict):
            continue
        out.append(("epic", epic, epics))
        tasks = epic.get("tasks")
        for task in tasks if isinstance(tasks, list) else []:
            if not isinstance(task, dict):
                continue
            out.append(("task", task, tasks))
            entries = task.get("depends_on")
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    out.append(("dependency", entry, entries))
    return out


@st.composite
def plan_data(draw: st.DrawFn) -> Any:
    """The valid plan with one to three fields changed, removed or added, or a mapping repeated
    (two epics or two tasks with one key)."""
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        kind, target, holder = draw(st.sampled_from(_objects(data)))
        action = draw(st.sampled_from(["set", "set", "set", "delete", "unknown", "repeat"]))
        if action == "set":
            field = draw(st.sampled_from(FIELDS[kind]))
            target[field] = draw(
                kinds if kind == "dependency" and field == "type" else VALUES[field]
            )
        elif action == "delete" and target:
            del target[draw(st.sampled_from(sorted(target)))]
        elif action == "unknown":
            target["colour"] = draw(junk)
        elif action == "repeat" and kind != "plan":
            holder.append(copy.deepcopy(target))
    return data


def _through_models(data: Any) -> tuple[list[GraphTask], list[GraphEpic]] | None:
    try:
        plan = plan_from_data(data, "", "plan.json")
    except PlanError:
        return None
    graph = graph_from_plan(plan)
    return list(graph.tasks.values()), [graph.epics[e.key] for e in plan.epics]


@settings(max_examples=400)
@given(plan_data())
def test_what_the_outline_accepts_the_models_accept_and_read_alike(data: Any) -> None:
    outlined = plan_outline.outline(copy.deepcopy(data))
    through_models = _through_models(data)
    if outlined is not None:
        assert through_models is not None, "the outline accepted what the models refuse"
        tasks, epics = outlined
        assert tasks == through_models[0]
        assert epics == through_models[1]


def test_the_unchanged_plan_takes_the_outline() -> None:
    outlined = plan_outline.outline(copy.deepcopy(VALID))
    assert outlined is not None
    tasks, epics = outlined
    assert (tasks, epics) == _through_models(VALID)
    orders = next(t for t in tasks if t.key == "orders")
    assert orders.depends_on == ()
    assert orders.soft_depends_on == ("seed", "schema")
    assert resolve(tasks, epics).missing_deps[0].depends_on == "ghost"


@pytest.mark.parametrize("name", ["bookstore.yaml", "todo-api.yaml"])
def test_the_example_plans_take_the_outline(name: str) -> None:
    path = ROOT / "examples" / "plans" / name
    text = path.read_text(encoding="utf-8")
    data = plan_text.load(text, str(path))
    outlined = plan_outline.outline(data)
    assert outlined is not None
    plan = Plan.model_validate(data)
    expected = graph_from_plan(plan)
    got = resolve(*outlined)
    assert got.batches == expected.batches
    assert got.tasks == expected.tasks
    assert got.critical_path() == expected.critical_path()


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("epics", 0, "tasks", 0, "key"), " schema"),  # the models strip it: theirs to say
        (("epics", 0, "tasks", 0, "priority"), "3"),  # the models convert it
        (("epics", 0, "tasks", 0, "estimate_minutes"), True),
        (("epics", 0, "tasks", 0, "title"), "\u3000"),  # blank once stripped: refused
        (("epics", 1, "depends_on"), ["api"]),  # an epic on itself
        (("epics", 0, "depends_on"), ["api"]),  # an epic cycle: db -> api -> db
        (("epics", 1, "key"), "db"),  # two epics, one key
        (("epics", 0, "tasks", 1, "model"), "gpt-4"),
    ],
)
def test_what_needs_the_models_is_left_to_them(where: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(VALID)
    parent = data
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value
    assert plan_outline.outline(data) is None
