"""The dependency graph against a naive reference on the fully expanded graph."""

from __future__ import annotations

import functools
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from yokeflow.core.graph import GraphEpic, GraphTask, resolve


def _expanded_edges(tasks: list[GraphTask], epics: list[GraphEpic]) -> set[tuple[str, str]]:
    """Every hard edge (dependency, dependent) with epic dependencies expanded to tasks."""
    keys = {t.key for t in tasks}
    members: dict[str, list[str]] = {}
    for t in tasks:
        members.setdefault(t.epic, []).append(t.key)
    edges = {(d, t.key) for t in tasks for d in t.depends_on if d in keys}
    for e in epics:
        for d in e.depends_on:
            edges |= {(a, b) for a in members.get(d, []) for b in members.get(e.key, [])}
    return edges


def _naive_levels(keys: list[str], edges: set[tuple[str, str]]) -> tuple[list[set[str]], set[str]]:
    remaining, levels = set(keys), []
    while True:
        ready = {k for k in remaining if not any(b == k and a in remaining for a, b in edges)}
        if not ready:
            return levels, remaining
        levels.append(ready)
        remaining -= ready


@st.composite
def plans(draw: st.DrawFn, allow_cycles: bool = False) -> tuple[list[GraphTask], list[GraphEpic]]:
    n_epics = draw(st.integers(1, 4))
    epic_keys = [f"e{i}" for i in range(n_epics)]
    n = draw(st.integers(1, 18))
    keys = [f"t{i:02d}" for i in range(n)]
    tasks = []
    for i, key in enumerate(keys):
        pool = keys if allow_cycles else keys[:i]
        hard = draw(st.lists(st.sampled_from(pool), max_size=3)) if pool else []
        soft = draw(st.lists(st.sampled_from(keys), max_size=2))
        tasks.append(
            GraphTask(
                key=key,
                epic=draw(st.sampled_from(epic_keys)),
                depends_on=tuple(hard),
                soft_depends_on=tuple(soft),
                estimate_minutes=draw(st.integers(1, 30)),
                priority=draw(st.integers(0, 3)),
            )
        )
    epics = []
    for i, key in enumerate(epic_keys):
        pool = epic_keys if allow_cycles else epic_keys[:i]
        # Acyclic epic edges must agree with task order, or epic expansion could add a cycle.
        deps = draw(st.lists(st.sampled_from(pool), max_size=2)) if pool else []
        epics.append(GraphEpic(key, key, draw(st.integers(0, 2)), tuple(deps)))
    if not allow_cycles:
        # Keep it acyclic: an epic may only depend on epics whose tasks all come first.
        first = {
            e: min((i for i, t in enumerate(tasks) if t.epic == e), default=10**6)
            for e in epic_keys
        }
        last = {
            e: max((i for i, t in enumerate(tasks) if t.epic == e), default=-1) for e in epic_keys
        }
        epics = [
            GraphEpic(
                e.key, e.name, e.priority, tuple(d for d in e.depends_on if last[d] < first[e.key])
            )
            for e in epics
        ]
    return tasks, epics


@settings(max_examples=300, deadline=None)
@given(plans())
def test_batches_are_exactly_the_kahn_levels(plan: tuple[list[GraphTask], list[GraphEpic]]) -> None:
    tasks, epics = plan
    graph = resolve(tasks, epics)
    edges = _expanded_edges(tasks, epics)
    levels, stuck = _naive_levels([t.key for t in tasks], edges)
    assert not stuck
    assert [set(b) for b in graph.batches] == levels
    assert sorted(k for b in graph.batches for k in b) == sorted(t.key for t in tasks)
    assert sorted(graph.task_order) == sorted(t.key for t in tasks)
    batch_of = {k: i for i, b in enumerate(graph.batches) for k in b}
    for a, b in edges:
        assert batch_of[a] < batch_of[b], f"hard edge {a}->{b} does not go forward"
    assert graph.circular_deps == ()
    assert graph.blocked == ()


@settings(max_examples=300, deadline=None)
@given(plans())
def test_critical_path_is_a_real_path_and_the_longest(
    plan: tuple[list[GraphTask], list[GraphEpic]],
) -> None:
    tasks, epics = plan
    graph = resolve(tasks, epics)
    edges = _expanded_edges(tasks, epics)
    est = {t.key: t.estimate_minutes for t in tasks}
    preds: dict[str, set[str]] = {t.key: set() for t in tasks}
    for a, b in edges:
        preds[b].add(a)

    @functools.cache
    def longest_to(k: str) -> float:
        return est[k] + max((longest_to(p) for p in preds[k]), default=0.0)

    path = graph.critical_path()
    assert path, "a non-empty plan has a critical path"
    for a, b in itertools.pairwise(path):
        assert (a, b) in edges, f"{a}->{b} is not a dependency"
    assert graph.critical_path_length() == sum(est[k] for k in path)
    assert graph.critical_path_length() == max(longest_to(t.key) for t in tasks)


@settings(max_examples=300, deadline=None)
@given(plans(allow_cycles=True))
def test_cycles_are_true_cycles_and_found_when_present(
    plan: tuple[list[GraphTask], list[GraphEpic]],
) -> None:
    tasks, epics = plan
    graph = resolve(tasks, epics)
    edges = _expanded_edges(tasks, epics)
    levels, stuck = _naive_levels([t.key for t in tasks], edges)
    assert set(graph.blocked) == stuck
    assert [set(b) for b in graph.batches] == levels
    assert bool(graph.circular_deps) == bool(stuck)
    for cycle in graph.circular_deps:
        ring = [*cycle, cycle[0]]
        for a, b in itertools.pairwise(ring):
            assert (a, b) in edges, f"{a}->{b} in reported cycle {cycle} is not an edge"
        assert len(set(cycle)) == len(cycle)


@settings(max_examples=100, deadline=None)
@given(plans(allow_cycles=True))
def test_resolution_is_deterministic(plan: tuple[list[GraphTask], list[GraphEpic]]) -> None:
    tasks, epics = plan
    first, second = resolve(tasks, epics), resolve(list(tasks), list(epics))
    assert first.to_dict() == second.to_dict()


@settings(max_examples=200, deadline=None)
@given(plans())
def test_soft_edges_order_within_a_batch_and_priority_breaks_ties(
    plan: tuple[list[GraphTask], list[GraphEpic]],
) -> None:
    tasks, epics = plan
    graph = resolve(tasks, epics)
    position = {k: i for i, k in enumerate(graph.task_order)}
    batch_of = {k: i for i, b in enumerate(graph.batches) for k in b}
    # The order runs batch by batch.
    assert [batch_of[k] for k in graph.task_order] == sorted(batch_of[k] for k in graph.task_order)
    epic_priority = {e.key: e.priority for e in epics}
    for batch in graph.batches:
        keys = [(epic_priority[graph.tasks[k].epic], graph.tasks[k].priority, k) for k in batch]
        assert keys == sorted(keys)
    soft_in_batch = [
        (d, t.key)
        for t in tasks
        for d in t.soft_depends_on
        if d != t.key and batch_of[d] == batch_of[t.key]
    ]
    # When soft edges inside a batch form no cycle, every one of them is honoured.
    _, soft_stuck = _naive_levels([t.key for t in tasks], set(soft_in_batch))
    if not soft_stuck:
        for a, b in soft_in_batch:
            assert position[a] < position[b]


def test_no_dependencies_is_one_batch() -> None:
    graph = resolve([GraphTask("b", "e"), GraphTask("a", "e"), GraphTask("c", "e")])
    assert graph.batches == (("a", "b", "c"),)
    assert graph.is_valid


def test_linear_chain_is_one_task_per_batch() -> None:
    graph = resolve(
        [
            GraphTask("a", "e"),
            GraphTask("b", "e", depends_on=("a",)),
            GraphTask("c", "e", depends_on=("b",)),
        ]
    )
    assert graph.batches == (("a",), ("b",), ("c",))
    assert graph.critical_path() == ("a", "b", "c")


def test_cycle_is_named_in_one_sentence() -> None:
    graph = resolve(
        [
            GraphTask("api-users", "api", depends_on=("api-auth",)),
            GraphTask("api-auth", "api", depends_on=("api-users",)),
            GraphTask("later", "api", depends_on=("api-auth",)),
            GraphTask("free", "api"),
        ]
    )
    assert graph.circular_deps == (("api-auth", "api-users"),)
    assert graph.problems() == ["cycle: api-auth -> api-users -> api-auth"]
    assert graph.batches == (("free",),)
    assert set(graph.blocked) == {"api-users", "api-auth", "later"}


def test_missing_dependency_is_reported_and_does_not_block() -> None:
    graph = resolve(
        [GraphTask("a", "e", depends_on=("ghost",))], [GraphEpic("e", depends_on=("no-epic",))]
    )
    assert [m.to_dict() for m in graph.missing_deps] == [
        {"task": "e", "depends_on": "no-epic", "epic": True},
        {"task": "a", "depends_on": "ghost"},
    ]
    assert graph.batches == (("a",),)
    assert not graph.is_valid


def test_epic_dependency_expands_to_every_task() -> None:
    graph = resolve(
        [GraphTask("d1", "db"), GraphTask("d2", "db", depends_on=("d1",)), GraphTask("a1", "api")],
        [GraphEpic("db"), GraphEpic("api", depends_on=("db",))],
    )
    assert graph.batches == (("d1",), ("d2",), ("a1",))
    assert graph.hard_dependencies("a1") == {"d1", "d2"}


def test_epic_self_dependency_is_a_cycle() -> None:
    graph = resolve([GraphTask("a", "e"), GraphTask("b", "e")], [GraphEpic("e", depends_on=("e",))])
    assert graph.circular_deps
    assert graph.batches == ()


def test_ranks_follow_the_longest_chain_after_each_task() -> None:
    graph = resolve(
        [
            GraphTask("a", "e", estimate_minutes=2),
            GraphTask("b", "e", depends_on=("a",), estimate_minutes=5),
            GraphTask("c", "e", depends_on=("a",), estimate_minutes=1),
        ]
    )
    assert graph.ranks() == {"a": 7, "b": 5, "c": 1}
    assert graph.ranks({"c": 10})["a"] == 12
