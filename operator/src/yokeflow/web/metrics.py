"""The API's Prometheus metrics (``/metrics``): the store's view and this process's runs.

The families are :class:`~yokeflow.adapters.prometheus.catalog.ApiFamilies`. Two sources feed
them, and neither is invented: run events (an event-log listener: sessions and their durations,
merges and theirs, agents running, budgets, makespans) and the store, read when ``/metrics`` is
scraped (tasks by status, cost and tokens by model, queue depth, the scheduling lower bound,
worktree disk use) — so those are right for runs in other processes too.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from yokeflow.adapters.prometheus.catalog import TOKEN_KINDS, ApiFamilies, ModelSpend
from yokeflow.adapters.prometheus.disk_use import tree_bytes
from yokeflow.core.events import Event
from yokeflow.core.graph import DependencyGraph, graph_from_records
from yokeflow.core.records import Project, Task, TaskStatus
from yokeflow.core.run_track import PHASES, RunTrack, measured_lower_bound
from yokeflow.ports.store import Store

__all__ = ["Metrics", "ready_tasks"]

_DISK_REFRESH_SECONDS = 30.0
"""Walking worktrees costs; their size is measured again at most this often."""


def ready_tasks(graph: DependencyGraph, tasks: list[Task]) -> int:
    """Pending tasks whose every hard dependency (and epic dependency) is done."""
    status = {t.key: t.status for t in tasks}
    return sum(
        1
        for t in tasks
        if t.status is TaskStatus.PENDING
        and t.key in graph.tasks
        and all(status.get(d) is TaskStatus.DONE for d in graph.hard_dependencies(t.key))
    )


class Metrics:
    """The families on ``registry``, fed by :meth:`observe` and refreshed by :meth:`render`."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        concurrency: int = 1,
        worktree_dir: str = ".worktrees",
    ) -> None:
        self.registry = registry
        self.families = ApiFamilies(registry)
        self.concurrency = concurrency
        """The agents a run may use at once (the lower bound's divisor)."""
        self.worktree_dir = worktree_dir
        self._tracks: dict[int, RunTrack] = {}
        self._running: dict[int, int] = {}
        self._disk: dict[int, tuple[float, int | None]] = {}

    def observe(self, project_id: int, event: Event) -> None:
        """Follow one run event (an event-log listener)."""
        track = self._tracks.setdefault(project_id, RunTrack())
        self.families.events.follow(track, event)
        match event.kind:
            case "agent_status":
                self._running[project_id] = len(event.running)
            case "run_finished":
                self._running.pop(project_id, None)
            case _:
                pass
        self.families.agents_running.set(sum(self._running.values()))

    async def render(self, store: Store) -> bytes:
        """The exposition text, with the store-backed values read now."""
        f = self.families
        projects = await store.list_projects()
        totals = dict.fromkeys(TaskStatus, 0)
        counts: dict[int, dict[TaskStatus, int]] = {}
        for project in projects:
            counts[project.id] = await store.task_counts(project.id)
            for status, count in counts[project.id].items():
                totals[status] += count
        for status, count in totals.items():
            f.tasks.labels(status=status.value).set(count)
        f.projects.set(len(projects))
        f.spend.spend = await _spend_by_model(store, projects)
        for family in (f.budget_remaining, f.budget, f.makespan, f.lower_bound, f.worktree_bytes):
            family.clear()  # a deleted project's series go
        phases = dict.fromkeys(PHASES, 0)
        queued = 0
        for project in projects:
            track = self._tracks.get(project.id)
            running = counts[project.id].get(TaskStatus.RUNNING, 0) > 0
            if track is not None and track.phase is not None:
                phases[track.phase] += 1
            if track is not None or running:
                queued += await self._project_series(store, project, track, running)
            await self._disk_series(project)
        f.queue_depth.set(queued)
        for phase, count in phases.items():
            f.runs.labels(phase=phase).set(count)
        return generate_latest(self.registry)

    async def _project_series(
        self, store: Store, project: Project, track: RunTrack | None, running: bool
    ) -> int:
        """Set the run-level series of ``project``; returns its ready tasks if it is running."""
        f = self.families
        tasks = await store.get_tasks_with_dependencies(project.id)
        graph = graph_from_records(tasks, await store.list_epics(project.id))
        if not graph.is_valid:
            return 0
        active = running or (track is not None and track.active)
        if track is not None and track.phase is not None:
            name = project.name
            f.makespan.labels(project=name).set(track.makespan_seconds)
            bound = measured_lower_bound(graph, track.task_seconds, self.concurrency)
            f.lower_bound.labels(project=name).set(bound)
            if track.active and track.budget_usd is not None and track.remaining_usd is not None:
                f.budget.labels(project=name).set(track.budget_usd)
                f.budget_remaining.labels(project=name).set(max(0.0, track.remaining_usd))
        return ready_tasks(graph, tasks) if active else 0

    async def _disk_series(self, project: Project) -> None:
        repo = project.metadata.get("repository")
        if not repo:
            return
        now = time.monotonic()
        measured = self._disk.get(project.id)
        if measured is None or now - measured[0] > _DISK_REFRESH_SECONDS:
            used = await asyncio.to_thread(_worktree_bytes, Path(str(repo)), self.worktree_dir)
            measured = self._disk[project.id] = (now, used)
        if measured[1] is not None:
            self.families.worktree_bytes.labels(project=project.name).set(measured[1])


def _worktree_bytes(repo: Path, worktree_dir: str) -> int | None:
    """None for a project of another machine (nothing of it to measure here)."""
    return tree_bytes(repo / worktree_dir) if repo.is_dir() else None


async def _spend_by_model(store: Store, projects: list[Project]) -> list[ModelSpend]:
    cost: dict[str, float] = {}
    tokens: dict[str, dict[str, int]] = {}
    for project in projects:
        for row in await store.get_cost_by_model(project.id):
            model = (row.model or "unknown")[:64]
            cost[model] = cost.get(model, 0.0) + float(row.cost_usd)
            kinds = tokens.setdefault(model, dict.fromkeys(TOKEN_KINDS, 0))
            kinds["input"] += row.input_tokens
            kinds["output"] += row.output_tokens
            kinds["cache_read"] += row.cache_read_tokens
            kinds["cache_creation"] += row.cache_creation_tokens
    return [ModelSpend(model, cost[model], tokens[model]) for model in sorted(cost)]
