"""The dependency graph: parallel batches, task order, cycles, missing keys and the critical path.

Inputs are plain frozen records (:class:`GraphTask`, :class:`GraphEpic`) so that a plan file, the
database and the operator all resolve the same way. Resolution is linear in tasks + edges:

* task ids become integers; an epic dependency ``E -> D`` is one *virtual* node ``done(D)`` with
  an edge from every task of ``D`` and to every task of ``E`` — the same constraint as expanding it
  to ``|D| * |E|`` task edges, at ``|D| + |E|`` cost;
* batches are the levels of the hard edges (a task's level is one more than its deepest
  dependency's; a virtual node adds no level), settled from the predecessor lists alone: one pass
  in plan order settles every task listed after its dependencies, a depth-first walk the rest;
* what has no level lies on or behind a cycle; Tarjan's strongly connected components name
  one true cycle per component;
* soft edges never delay a task's batch; they only order tasks within a batch;
* successor lists and a topological order (Kahn's, first in first out) are built only when asked
  for: by the critical path, the ranks, the scheduler and the cycle report.

Nothing here does I/O; pictures live in :mod:`yokeflow.core.pictures`.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from yokeflow.core import gc_pause

if TYPE_CHECKING:
    from yokeflow.core.plan import Plan
    from yokeflow.core.records import Epic, Task

__all__ = [
    "DependencyGraph",
    "GraphEpic",
    "GraphTask",
    "MissingDependency",
    "graph_from_plan",
    "graph_from_records",
    "resolve",
]


@dataclass(frozen=True, slots=True)
class GraphTask:
    """A task as the resolver sees it."""

    key: str
    epic: str
    title: str = ""
    description: str = ""
    depends_on: tuple[str, ...] = ()
    """Hard dependencies: task keys that must be done first."""
    soft_depends_on: tuple[str, ...] = ()
    """Soft dependencies: ordered first when ready together, never waited for."""
    estimate_minutes: float = 1.0
    priority: int = 0


@dataclass(frozen=True, slots=True)
class GraphEpic:
    """An epic as the resolver sees it: its priority and the epics it depends on."""

    key: str
    name: str = ""
    priority: int = 0
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MissingDependency:
    """A dependency on a key that is not in the plan."""

    task: str
    """The task (or, when ``epic`` is true, the epic) that names the unknown key."""
    depends_on: str
    epic: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"task": self.task, "depends_on": self.depends_on}
        if self.epic:
            out["epic"] = True
        return out


_OPEN = 1 << 62
"""A node's step before it is settled: larger than any real step, so one ``max`` tells."""
_ACTIVE = _OPEN + 1
"""A node on the depth-first path being settled: meeting it again closes a cycle."""
_STUCK = _OPEN + 2
"""A node on or behind a cycle: it has no level."""


@dataclass(frozen=True)
class _Indexed:
    """The integer form of the graph: real nodes ``0..n-1``, virtual epic nodes after them."""

    n: int
    pred: list[list[int]]
    virtual_succ: list[list[int]]
    """The successors of each virtual node (node ``n + i`` at ``i``), in epic order."""
    soft_succ: list[list[int]] | None
    """None when the plan has no soft edge."""
    weight: list[float]

    @cached_property
    def succ(self) -> list[list[int]]:
        """Each node's successors: dependent tasks in plan order, then virtual nodes."""
        with gc_pause.paused():
            return self._successors()

    def _successors(self) -> list[list[int]]:
        n, pred = self.n, self.pred
        succ: list[list[int]] = [[] for _ in range(n)]
        add = [s.append for s in succ]
        for i in range(n):
            for j in pred[i]:
                if j < n:
                    add[j](i)
        for v in range(n, len(pred)):
            for j in pred[v]:
                add[j](v)
        succ.extend(self.virtual_succ)
        return succ

    @cached_property
    def topo(self) -> tuple[int, ...]:
        """Kahn's order (first in, first out) of every node not on or behind a cycle."""
        succ = self.succ
        indegree = [len(p) for p in self.pred]
        order = [v for v, count in enumerate(indegree) if not count]
        for v in order:  # the list grows while it is walked: first in, first out
            for s in succ[v]:
                indegree[s] -= 1
                if not indegree[s]:
                    order.append(s)
        return tuple(order)


@dataclass(frozen=True)
class DependencyGraph:
    """A resolved plan. Tasks on or behind a cycle are in no batch and listed in ``blocked``."""

    tasks: Mapping[str, GraphTask]
    epics: Mapping[str, GraphEpic]
    batches: tuple[tuple[str, ...], ...]
    task_order: tuple[str, ...]
    circular_deps: tuple[tuple[str, ...], ...]
    missing_deps: tuple[MissingDependency, ...]
    blocked: tuple[str, ...]
    _index: _Indexed = field(repr=False, compare=False)

    @property
    def is_valid(self) -> bool:
        """True when there is no cycle and no unknown key."""
        return not self.circular_deps and not self.missing_deps

    @cached_property
    def _keys(self) -> list[str]:
        return list(self.tasks)

    @cached_property
    def _position(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.tasks)}

    @cached_property
    def _longest(self) -> tuple[list[float], list[int]]:
        idx = self._index
        pred, weight = idx.pred, idx.weight
        dist = [0.0] * len(pred)
        via = [-1] * len(pred)
        at = dist.__getitem__
        for v in self._index.topo:
            before = pred[v]
            if before:
                arg = max(before, key=at)  # the first of the longest, as a fixed tie-break
                dist[v] = dist[arg] + weight[v]
                via[v] = arg
            else:
                dist[v] = weight[v]
        return dist, via

    def critical_path(self) -> tuple[str, ...]:
        """The longest chain of hard dependencies, weighted by estimates (first task first)."""
        dist, via = self._longest
        keys, n = self._keys, self._index.n
        real = [v for v in self._index.topo if v < n]
        end = max(real, key=dist.__getitem__) if real else -1
        path: list[str] = []
        while end >= 0:
            if end < n:
                path.append(keys[end])
            end = via[end]
        return tuple(reversed(path))

    def critical_path_length(self) -> float:
        """The summed estimate (minutes) of :meth:`critical_path`."""
        return sum(self.tasks[k].estimate_minutes for k in self.critical_path())

    def ranks(self, durations: Mapping[str, float] | None = None) -> dict[str, float]:
        """Each schedulable task's bottom level: its duration plus the longest chain after it.

        ``durations`` overrides estimates (e.g. with measured times); a scheduler starts the
        highest rank first, which keeps the critical path moving.
        """
        idx, keys = self._index, self._keys
        weight = list(idx.weight)
        if durations:
            for i, key in enumerate(keys):
                if key in durations:
                    weight[i] = durations[key]
        succ, topo = idx.succ, idx.topo
        rank = [0.0] * len(succ)
        for v in reversed(topo):
            rank[v] = weight[v] + max((rank[s] for s in succ[v]), default=0.0)
        return {keys[v]: rank[v] for v in topo if v < idx.n}

    def hard_edges(self) -> tuple[int, Sequence[Sequence[int]], Sequence[Sequence[int]]]:
        """The hard dependencies in integer form: ``(n, predecessors, successors)``.

        Nodes ``0..n-1`` are the tasks in ``tasks`` order; each node from ``n`` on stands for one
        epic dependency (done when every task of that epic is). Shared, not copied: read only.
        """
        idx = self._index
        return idx.n, idx.pred, idx.succ

    def hard_dependencies(self, key: str) -> frozenset[str]:
        """The tasks ``key`` waits for directly: its own hard deps plus its epic dependencies' tasks."""
        idx, keys, i = self._index, self._keys, self._position[key]
        out: set[str] = set()
        for p in idx.pred[i]:
            if p < idx.n:
                out.add(keys[p])
            else:
                out.update(keys[q] for q in idx.pred[p])
        return frozenset(out)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``yokeflow graph --format json``."""
        return {
            "batches": [list(b) for b in self.batches],
            "task_order": list(self.task_order),
            "critical_path": list(self.critical_path()),
            "critical_path_length": self.critical_path_length(),
            "cycles": [list(c) for c in self.circular_deps],
            "missing": [m.to_dict() for m in self.missing_deps],
            "blocked": list(self.blocked),
            "task_count": len(self.tasks),
        }

    def problems(self) -> list[str]:
        """One plain sentence per problem, e.g. ``cycle: api-auth -> api-users -> api-auth``."""
        out = [f"cycle: {' -> '.join((*c, c[0]))}" for c in self.circular_deps]
        for m in self.missing_deps:
            what = "epic" if m.epic else "task"
            out.append(
                f"unknown dependency: {what} {m.task!r} depends on {m.depends_on!r}, which is not in the plan"
            )
        return out


def graph_from_plan(plan: Plan) -> DependencyGraph:
    """Resolve a parsed plan file."""
    with gc_pause.paused():
        return resolve(
            _graph_tasks(plan),
            [GraphEpic(e.key, e.name, e.priority, tuple(e.depends_on)) for e in plan.epics],
        )


def _graph_tasks(plan: Plan) -> list[GraphTask]:
    tasks = []
    for epic in plan.epics:
        for task in epic.tasks:
            # The entries as written: a plain key takes the task's dependency_type (no
            # Dependency object per edge — a 10k-task plan has 50k of them).
            plain = task.dependency_type
            hard: list[str] = []
            soft: list[str] = []
            for d in task.depends_on:
                if isinstance(d, str):
                    (hard if plain == "hard" else soft).append(d)
                else:
                    (hard if d.type == "hard" else soft).append(d.key)
            tasks.append(
                GraphTask(
                    key=task.key,
                    epic=epic.key,
                    title=task.title,
                    description=task.description,
                    depends_on=tuple(hard),
                    soft_depends_on=tuple(soft),
                    estimate_minutes=task.estimate_minutes,
                    priority=task.priority,
                )
            )
    return tasks


def graph_from_records(tasks: Sequence[Task], epics: Sequence[Epic]) -> DependencyGraph:
    """Resolve stored tasks and epics (ids become keys) the same way a plan file resolves.

    An id that does not resolve stays visible as ``#id``, so the graph reports it as missing.
    """
    key_of = {t.id: t.key for t in tasks}
    epic_key = {e.id: e.key for e in epics}
    graph_tasks = [
        GraphTask(
            key=t.key,
            epic=epic_key.get(t.epic_id, str(t.epic_id)),
            title=t.title,
            description=t.description,
            depends_on=tuple(key_of.get(d, f"#{d}") for d in t.hard_dependencies),
            soft_depends_on=tuple(key_of.get(d, f"#{d}") for d in t.soft_dependencies),
            estimate_minutes=t.estimate_minutes,
            priority=t.priority,
        )
        for t in sorted(tasks, key=lambda t: (t.position, t.id))
    ]
    graph_epics = [
        GraphEpic(e.key, e.name, e.priority, tuple(epic_key.get(d, f"#{d}") for d in e.depends_on))
        for e in epics
    ]
    return resolve(graph_tasks, graph_epics)


def resolve(tasks: Sequence[GraphTask], epics: Iterable[GraphEpic] = ()) -> DependencyGraph:
    """Resolve tasks (and the epics they belong to) into a :class:`DependencyGraph`.

    Epics named by a task but not given are treated as priority 0 with no dependencies.
    Duplicate task keys are a caller error (:class:`ValueError`).
    """
    with gc_pause.paused():
        return _resolve(tasks, epics)


def _resolve(tasks: Sequence[GraphTask], epics: Iterable[GraphEpic]) -> DependencyGraph:
    by_key: dict[str, GraphTask] = {t.key: t for t in tasks}
    if len(by_key) != len(tasks):
        seen: set[str] = set()
        for t in tasks:
            if t.key in seen:
                raise ValueError(f"duplicate task key {t.key!r}")
            seen.add(t.key)
    epic_map: dict[str, GraphEpic] = {e.key: e for e in epics}
    for name in dict.fromkeys([t.epic for t in tasks]):
        if name not in epic_map:
            epic_map[name] = GraphEpic(name)

    index, missing = _index(tasks, epic_map, by_key)
    n = index.n
    step = _steps(index.pred, n)
    keys = list(by_key)
    epic_priority = {k: e.priority for k, e in epic_map.items()}
    sort_key = [(epic_priority[t.epic], t.priority, t.key) for t in tasks]

    task_steps = step[:n]
    depth = max(filter(_OPEN.__gt__, task_steps), default=0)
    grouped: list[list[int]] = [[] for _ in range(depth)]
    stuck: list[int] = []
    for v, at in enumerate(task_steps):
        if at < _OPEN:
            grouped[at - 1].append(v)
        else:
            stuck.append(v)
    batches: list[tuple[str, ...]] = []
    order: list[str] = []
    soft_succ = index.soft_succ
    for members in grouped:
        members.sort(key=sort_key.__getitem__)
        batch = tuple([keys[v] for v in members])
        batches.append(batch)
        if soft_succ is None:  # no soft edges at all: the priority order stands
            order.extend(batch)
        else:
            order.extend([keys[v] for v in _soft_order(members, soft_succ, sort_key)])

    cycles: list[tuple[str, ...]] = []
    if stuck:
        on_cycles = {v for v, at in enumerate(step) if at >= _OPEN}
        cycles = _cycles(index.succ, n, on_cycles, keys)
    return DependencyGraph(
        tasks=by_key,
        epics=epic_map,
        batches=tuple(batches),
        task_order=tuple(order),
        circular_deps=tuple(cycles),
        missing_deps=tuple(missing),
        blocked=tuple([keys[v] for v in stuck]),
        _index=index,
    )


def _index(
    tasks: Sequence[GraphTask], epic_map: Mapping[str, GraphEpic], by_key: Mapping[str, GraphTask]
) -> tuple[_Indexed, list[MissingDependency]]:
    n = len(tasks)
    pos = dict(zip(by_key, range(n), strict=True))  # by_key: the tasks, in order
    virtual: dict[str, int] = {}
    missing: list[MissingDependency] = []
    for e in epic_map.values():
        for d in e.depends_on:
            if d not in epic_map:
                missing.append(MissingDependency(e.key, d, epic=True))
            elif d not in virtual:
                virtual[d] = n + len(virtual)
    pred: list[list[int]] = []
    add_pred = pred.append
    position = pos.__getitem__
    soft: list[list[int]] | None = None
    for i, t in enumerate(tasks):
        try:
            add_pred(list(map(position, t.depends_on)))
        except KeyError:  # a key not in the plan: keep the known ones, report the rest
            known = [d for d in t.depends_on if d in pos]
            pred.append([pos[d] for d in known])
            missing.extend(MissingDependency(t.key, d) for d in t.depends_on if d not in pos)
        if t.soft_depends_on:
            if soft is None:
                soft = [[] for _ in range(n)]
            for d in t.soft_depends_on:
                j = pos.get(d)
                if j is None:
                    missing.append(MissingDependency(t.key, d))
                elif j != i:
                    soft[j].append(i)
    pred.extend([] for _ in virtual)
    virtual_succ: list[list[int]] = [[] for _ in virtual]
    if virtual:
        members: dict[str, list[int]] = {}
        for i, t in enumerate(tasks):
            members.setdefault(t.epic, []).append(i)
        for d, v in virtual.items():
            pred[v].extend(members.get(d, ()))
        for e in epic_map.values():
            for d in e.depends_on:
                if d in virtual:
                    v = virtual[d]
                    for i in members.get(e.key, ()):
                        virtual_succ[v - n].append(i)
                        pred[i].append(v)
    weight = [t.estimate_minutes for t in tasks]
    weight.extend(0.0 for _ in virtual)
    return _Indexed(n, pred, virtual_succ, soft, weight), missing


def _steps(pred: list[list[int]], n: int) -> list[int]:
    """Each node's step: a task's level + 1, a virtual node's level; :data:`_STUCK` on or behind a cycle.

    A node's level is the largest step among its predecessors (0 with none). One pass in index
    order settles each node whose predecessors are settled — a task listed after what it depends
    on, which is how plans are usually written — with one ``max`` over its predecessors' steps;
    a node met earlier than some predecessor is settled depth-first instead (:func:`_settle`).
    """
    step = [_OPEN] * len(pred)
    at = step.__getitem__
    for v in range(n):
        if step[v] == _OPEN:  # not settled yet by a depth-first walk
            before = pred[v]
            top = max(map(at, before)) if before else 0
            if top < _OPEN:
                step[v] = top + 1
            else:
                _settle(v, pred, n, step)
    for v in range(n, len(pred)):  # virtual nodes no task waits for
        if step[v] == _OPEN:
            _settle(v, pred, n, step)
    return step


def _settle(start: int, pred: list[list[int]], n: int, step: list[int]) -> None:
    """Settle ``start`` and its unsettled predecessors depth-first (iteratively: plans are deep).

    A predecessor still on the walk's path closes a cycle: the node is :data:`_STUCK`, and so is
    every node that waits for a stuck one.
    """
    step[start] = _ACTIVE
    path = [(start, 0)]
    while path:
        v, i = path[-1]
        before = pred[v]
        while i < len(before) and step[before[i]] != _OPEN:
            i += 1
        if i < len(before):
            p = before[i]
            path[-1] = (v, i + 1)
            step[p] = _ACTIVE
            path.append((p, 0))
            continue
        path.pop()
        top = max(map(step.__getitem__, before), default=0)
        step[v] = _STUCK if top >= _OPEN else (top + 1 if v < n else top)


def _soft_order(
    members: list[int], soft_succ: list[list[int]], sort_key: list[tuple[int, int, str]]
) -> list[int]:
    """Members (already sorted by priority) reordered so soft dependencies come first where possible."""
    inside = set(members)
    indegree = dict.fromkeys(members, 0)
    for v in members:
        for s in soft_succ[v]:
            if s in inside:
                indegree[s] += 1
    heap = [(sort_key[v], v) for v in members if indegree[v] == 0]
    heapq.heapify(heap)
    out: list[int] = []
    while heap:
        _, v = heapq.heappop(heap)
        out.append(v)
        for s in soft_succ[v]:
            if s in inside:
                indegree[s] -= 1
                if indegree[s] == 0:
                    heapq.heappush(heap, (sort_key[s], s))
    if len(out) < len(members):  # a soft cycle: keep the rest in priority order
        done = set(out)
        out.extend(v for v in members if v not in done)
    return out


def _cycles(
    succ: list[list[int]], n: int, stuck: set[int], keys: list[str]
) -> list[tuple[str, ...]]:
    """One true cycle (as task keys, virtual nodes dropped) per cyclic strongly connected component."""
    cycles: list[tuple[str, ...]] = []
    for component in _strongly_connected(succ, stuck):
        comp = set(component)
        start = min(comp)
        if len(comp) == 1 and start not in succ[start]:
            continue
        path = _path_back(succ, comp, start)
        real = [keys[v] for v in path if v < n]
        first = real.index(min(real))
        cycles.append(tuple(real[first:] + real[:first]))
    cycles.sort()
    return cycles


def _strongly_connected(succ: list[list[int]], nodes: set[int]) -> list[list[int]]:
    """Tarjan's algorithm, iterative, restricted to ``nodes``."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, i = work[-1]
            edges = succ[v]
            while i < len(edges) and edges[i] not in nodes:
                i += 1
            if i < len(edges):
                w = edges[i]
                work[-1] = (v, i + 1)
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                out.append(component)
    return out


def _path_back(succ: list[list[int]], comp: set[int], start: int) -> list[int]:
    """A shortest cycle through ``start`` inside ``comp`` (breadth-first), starting at ``start``."""
    parent: dict[int, int] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in succ[v]:
            if w not in comp:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return list(reversed(path))
            if w not in parent:
                parent[w] = v
                queue.append(w)
    return [start]
