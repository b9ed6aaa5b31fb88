"""A run's task states, with the indexes :func:`yokeflow.core.schedule.decide` reads kept current.

``decide()`` given a plain mapping looks at every task on every call: linear per decision,
quadratic over a run. A :class:`RunStates` is the same mapping (task key -> :class:`TaskRun`),
but each assignment updates, in time proportional to the task's dependents, what a decision
needs: how many tasks are in each state, how many hard dependencies of each task are not merged
(or not even finished), the tasks ready to start, and the per-epic ratios of measured to
estimated durations. A caller that keeps one across a run (the simulation does) gets each
decision in time proportional to what changed; the decisions are the same as from a plain
mapping with the same contents.

Dependencies are counted on the graph's integer form, where an epic dependency is one node (done
when all that epic's tasks are), so nothing here expands ``|D| x |E|`` edges.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING

from yokeflow.core.task_run import TaskRun, TaskState

if TYPE_CHECKING:
    from yokeflow.core.graph import DependencyGraph

__all__ = ["RunStates"]


class RunStates(Mapping[str, "TaskRun"]):
    """Every task of ``graph`` with its :class:`TaskRun` (pending unless ``states`` says)."""

    def __init__(self, graph: DependencyGraph, states: Mapping[str, TaskRun] | None = None) -> None:
        self.graph = graph
        self._state_type = TaskState
        keys = list(graph.tasks)
        self._keys = keys
        self._index = {k: i for i, k in enumerate(keys)}
        n, pred, succ = graph.hard_edges()
        self._n, self._pred, self._succ = n, pred, succ
        self._order_pos = [-1] * n
        for p, key in enumerate(graph.task_order):
            self._order_pos[self._index[key]] = p
        level_of = [-1] * n
        for number, batch in enumerate(graph.batches):
            for key in batch:
                level_of[self._index[key]] = number
        self._level_of = level_of
        self._estimate = [t.estimate_minutes for t in graph.tasks.values()]
        self._epic = [t.epic for t in graph.tasks.values()]
        self._epics = list(dict.fromkeys(self._epic))

        given = states or {}
        pending = TaskRun()
        self._runs: list[TaskRun] = [given.get(k, pending) for k in keys]
        self._members: dict[TaskState, set[int]] = {s: set() for s in TaskState}
        for i, r in enumerate(self._runs):
            self._members[r.state].add(i)
        # Per batch: its tasks by state, and how many are not settled (merged, cancelled,
        # blocked or conflicted; a failed task counts as unsettled).
        self._settled_states = frozenset(
            {TaskState.MERGED, TaskState.CANCELLED, TaskState.BLOCKED, TaskState.CONFLICT}
        )
        self._by_level: list[Counter[TaskState]] = [Counter() for _ in graph.batches]
        self._unsettled = [0] * len(graph.batches)
        for i, r in enumerate(self._runs):
            if level_of[i] >= 0:
                self._by_level[level_of[i]][r.state] += 1
                self._unsettled[level_of[i]] += r.state not in self._settled_states
        self._first_unsettled = 0
        # Hard-dependency counts per node: edges from a node below "finished" (need_landed) and
        # below "merged" (need_merged). A task is startable when need_merged is 0, or competes
        # for a slot while its last dependencies land when need_landed is 0.
        size = len(pred)
        self._grade = [self._grade_of(r.state) for r in self._runs] + [0] * (size - n)
        self._need_landed = [0] * size
        self._need_merged = [0] * size
        for v in range(n, size):  # epic nodes first: their grade is that of their least task
            self._count(v)
            self._grade[v] = self._virtual_grade(v)
        for v in range(n):
            self._count(v)
        self._ready = {
            i
            for i in self._members[TaskState.PENDING]
            if self._need_landed[i] == 0 and self._order_pos[i] >= 0
        }
        # Measured durations: ratio to the estimate per task, kept in task order per epic.
        self._ratio: dict[int, float] = {}
        self._epic_measured: dict[str, list[int]] = {}
        self._epic_sum: dict[str, float] = {}
        self._changed_epics: set[str] = set()
        self._logs: Counter[float] = Counter()
        self._durations_version = 0
        for i, r in enumerate(self._runs):
            if r.duration is not None:
                self._measure(i, None, r)
        # Caches for decide(): refined durations and ranks, and the candidates in rank order.
        self._factor_of: dict[str, float] | None = None
        self._overall: float | None = None
        self._refined: dict[str, float] = {}
        self._ranks: dict[str, float] | None = None
        self._rank_pos: list[int] = []
        self._heap: list[tuple[int, int]] = []
        self._in_heap: set[int] = set()
        self._spread_at = -1
        self._expanded: dict[int, tuple[int, ...]] = {}
        self._waiting: dict[int, list[str]] = {}  # unfinished_dependencies, until one finishes
        self._spread: float | None = None

    # -- the mapping ---------------------------------------------------------------------------

    def __getitem__(self, key: str) -> TaskRun:
        return self._runs[self._index[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __setitem__(self, key: str, run: TaskRun) -> None:
        i = self._index[key]
        old = self._runs[i]
        self._runs[i] = run
        if old.state is not run.state:
            self._members[old.state].discard(i)
            self._members[run.state].add(i)
            grade = self._grade_of(run.state)
            if grade != self._grade[i]:
                self._regrade(i, grade)
            self._settle(i, old.state, run.state)
        self._refresh_ready(i)
        if old.duration != run.duration:
            self._measure(i, old, run)

    # -- what decide() reads -------------------------------------------------------------------

    def count(self, state: TaskState) -> int:
        return len(self._members[state])

    def keys_in(self, state: TaskState) -> list[str]:
        """The tasks in ``state``, in the plan's task order (``graph.tasks``)."""
        return [self._keys[i] for i in sorted(self._members[state])]

    def keys_in_run_order(self, state: TaskState) -> list[str]:
        """The tasks in ``state`` that have a batch, in ``graph.task_order``."""
        at = self._order_pos
        return [
            self._keys[i] for i in sorted(self._members[state], key=at.__getitem__) if at[i] >= 0
        ]

    def waits(self, key: str, *, for_merges: bool) -> bool:
        """Whether a hard dependency of ``key`` is not merged (``for_merges``) or not finished."""
        i = self._index[key]
        return (self._need_merged if for_merges else self._need_landed)[i] > 0

    def unfinished_dependencies(self, key: str) -> list[str]:
        """``key``'s hard dependencies (epic ones expanded) not finished: neither done, merging
        nor merged — what ``key`` still waits for in a rollout."""
        i = self._index[key]
        deps = self._expanded.get(i)
        if deps is None:
            n, pred, found = self._n, self._pred, set()
            for p in pred[i]:
                if p < n:
                    found.add(p)
                else:
                    found.update(pred[p])
            deps = self._expanded[i] = tuple(found)
        waiting = self._waiting.get(i)
        if waiting is None:
            grade, keys = self._grade, self._keys
            waiting = self._waiting[i] = [keys[j] for j in deps if grade[j] == 0]
        return list(waiting)

    def has_batch(self, key: str) -> bool:
        """Whether ``key`` is in a batch (not on or behind a cycle)."""
        return self._order_pos[self._index[key]] >= 0

    def level_of(self, key: str) -> int:
        """The batch of ``key`` (-1 when it has none: on or behind a cycle)."""
        return self._level_of[self._index[key]]

    def level_count(self, level: int, state: TaskState) -> int:
        """How many tasks of batch ``level`` are in ``state``."""
        return self._by_level[level][state]

    def first_unsettled_level(self) -> int:
        """The first batch with a task neither merged, cancelled, blocked nor conflicted."""
        unsettled, at = self._unsettled, self._first_unsettled
        while at < len(unsettled) and unsettled[at] == 0:
            at += 1
        self._first_unsettled = at
        return at

    def refined_durations(self) -> dict[str, float]:
        """Exactly ``run_estimates.refined_durations(graph, self)``, rebuilt only when it changes."""
        self._refresh_factors()
        return self._refined

    def ranks(self) -> dict[str, float]:
        """``graph.ranks(refined_durations())``, computed again only when the durations change."""
        self._refresh_factors()
        if self._ranks is None:
            from yokeflow.core.run_estimates import candidate_order  # it imports this module

            self._ranks = self.graph.ranks(self._refined)
            # Every task, so that the position orders exactly as candidate_order does.
            ordered = sorted(self._keys, key=candidate_order(self.graph, self._ranks))
            self._rank_pos = [0] * self._n
            for p, key in enumerate(ordered):
                self._rank_pos[self._index[key]] = p
            self._heap = [(self._rank_pos[i], i) for i in self._ready]
            heapq.heapify(self._heap)
            self._in_heap = set(self._ready)
        return self._ranks

    def rank_position(self, key: str) -> int:
        """``key``'s place in candidate order (call :meth:`ranks` first)."""
        return self._rank_pos[self._index[key]]

    def pending_by_rank(self) -> Generator[str, None, None]:
        """Pending tasks whose dependencies are all finished, highest rank first, lazily.

        The caller must exhaust or close the iterator before changing the states: closing puts
        back what was taken (it is how :func:`decide` stays free of side effects).
        """
        self.ranks()
        heap, ready, taken = self._heap, self._ready, []
        try:
            while heap:
                entry = heapq.heappop(heap)
                if entry[1] not in ready:  # started, or waiting again: drop the stale entry
                    self._in_heap.discard(entry[1])
                    continue
                taken.append(entry)
                yield self._keys[entry[1]]
        finally:
            for entry in taken:
                heapq.heappush(heap, entry)

    def spread(self) -> float | None:
        """Exactly ``run_estimates.estimate_spread(graph, self)``: cached until a duration changes."""
        if self._spread_at != self._durations_version:
            from yokeflow.core.run_estimates import estimate_spread  # it imports this module

            total = sum(self._logs.values())
            if total < 2:
                self._spread = None
            elif len(self._logs) == 1:
                self._spread = 0.0  # statistics.stdev of equal values, exactly
            else:
                self._spread = estimate_spread(self.graph, self)
            self._spread_at = self._durations_version
        return self._spread

    # -- upkeep ----------------------------------------------------------------------------------

    def _grade_of(self, state: TaskState) -> int:
        s = self._state_type
        if state is s.MERGED:
            return 2
        if state is s.DONE or state is s.MERGING:
            return 1
        return 0

    def _virtual_grade(self, v: int) -> int:
        if self._need_merged[v] == 0:
            return 2
        return 1 if self._need_landed[v] == 0 else 0

    def _count(self, v: int) -> None:
        grade = self._grade
        self._need_merged[v] = sum(1 for p in self._pred[v] if grade[p] < 2)
        self._need_landed[v] = sum(1 for p in self._pred[v] if grade[p] < 1)

    def _regrade(self, v: int, grade: int) -> None:
        old, self._grade[v] = self._grade[v], grade
        merged = (grade >= 2) - (old >= 2)
        landed = (grade >= 1) - (old >= 1)
        n = self._n
        if landed and v < n and self._waiting:
            for s in self._succ[v]:
                for t in self._succ[s] if s >= n else (s,):
                    self._waiting.pop(t, None)
        for s in self._succ[v]:
            self._need_merged[s] -= merged
            self._need_landed[s] -= landed
            if s >= n:
                new = self._virtual_grade(s)
                if new != self._grade[s]:
                    self._regrade(s, new)
            else:
                self._refresh_ready(s)

    def _settle(self, i: int, old: TaskState, new: TaskState) -> None:
        level = self._level_of[i]
        if level < 0:
            return
        counts = self._by_level[level]
        counts[old] -= 1
        counts[new] += 1
        change = (new not in self._settled_states) - (old not in self._settled_states)
        self._unsettled[level] += change
        if change > 0 and level < self._first_unsettled:
            self._first_unsettled = level

    def _refresh_ready(self, i: int) -> None:
        ready = (
            self._runs[i].state is self._state_type.PENDING
            and self._need_landed[i] == 0
            and self._order_pos[i] >= 0
        )
        if not ready:
            self._ready.discard(i)
            return
        self._ready.add(i)
        if self._ranks is not None and i not in self._in_heap:
            heapq.heappush(self._heap, (self._rank_pos[i], i))
            self._in_heap.add(i)

    def _measure(self, i: int, old: TaskRun | None, run: TaskRun) -> None:
        import math

        estimate, epic = self._estimate[i], self._epic[i]
        if old is not None and old.duration is not None:
            if estimate > 0:
                del self._ratio[i]
                members = self._epic_measured[epic]
                members.remove(i)
                self._resum(epic)
            if old.duration > 0 and estimate > 0:
                log = math.log(old.duration / estimate)
                self._logs[log] -= 1
                if not self._logs[log]:
                    del self._logs[log]
        if run.duration is not None:
            if estimate > 0:
                self._ratio[i] = run.duration / estimate
                bisect.insort(self._epic_measured.setdefault(epic, []), i)
                self._resum(epic)
            if run.duration > 0 and estimate > 0:
                self._logs[math.log(run.duration / estimate)] += 1
        self._durations_version += 1

    def _resum(self, epic: str) -> None:
        members = self._epic_measured[epic]
        if members:
            ratio = self._ratio
            self._epic_sum[epic] = sum([ratio[i] for i in members])
        else:
            del self._epic_measured[epic]
            del self._epic_sum[epic]
        self._changed_epics.add(epic)
        self._factors_stale = True

    _factors_stale = True

    def _refresh_factors(self) -> None:
        """Refresh the per-epic factors on the estimates; durations and ranks only on a change."""
        if not self._factors_stale:
            return
        self._factors_stale = False
        changed_epics, self._changed_epics = self._changed_epics, set()
        measured, sums = self._epic_measured, self._epic_sum
        if not measured:
            if self._factor_of is not None:
                self._factor_of, self._overall, self._refined, self._ranks = None, None, {}, None
            return
        # The same sums in the same order as run_estimates.refined_durations: each epic's ratios
        # in task order, epics in the order of their first measured task.
        epics = sorted(measured, key=lambda e: measured[e][0])
        overall = sum([sums[e] for e in epics]) / sum([len(measured[e]) for e in epics])
        old = self._factor_of
        if old is not None:
            same = overall == self._overall or len(measured) == len(self._epics)
            for e in changed_epics:
                factor = sums[e] / len(measured[e]) if e in measured else overall
                same = same and factor == old[e]
            if same:
                self._overall = overall
                for e in changed_epics:
                    old[e] = sums[e] / len(measured[e]) if e in measured else overall
                return
        self._overall = overall
        factor_of = {
            e: sums[e] / len(measured[e]) if e in measured else overall for e in self._epics
        }
        self._factor_of = factor_of
        self._refined = {
            key: task.estimate_minutes * factor_of[task.epic]
            for key, task in self.graph.tasks.items()
        }
        self._ranks = None
