"""Prometheus metrics of the API process, on an injected registry (prefix ``yokeflow_``).

Labels are bounded: task states, models, outcomes and merge statuses — never task ids, keys or
project names. Counters follow the run events; the task-state gauge is read from the store when
``/metrics`` is scraped, so it is right for runs in other processes too.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from yokeflow.core.events import Event
from yokeflow.core.records import TaskStatus
from yokeflow.ports.store import Store

__all__ = ["Metrics"]


class Metrics:
    """The metric families, registered once on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.tasks = Gauge(
            "yokeflow_tasks", "Tasks of every project by status.", ["status"], registry=registry
        )
        self.projects = Gauge("yokeflow_projects", "Projects in the database.", registry=registry)
        self.agents_running = Gauge(
            "yokeflow_agents_running", "Agents running in this process's runs.", registry=registry
        )
        self.sessions = Counter(
            "yokeflow_task_sessions",
            "Agent sessions on tasks that ended, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.merges = Counter(
            "yokeflow_merges", "Merge attempts of task branches, by result.", ["status"],
            registry=registry,
        )  # fmt: skip
        self.cost = Counter(
            "yokeflow_cost_usd", "Dollars spent by agent sessions, by model.", ["model"],
            registry=registry,
        )  # fmt: skip
        self.batches = Counter(
            "yokeflow_batches_started", "Scheduling rounds that launched tasks.", registry=registry
        )
        self._running: dict[int, int] = {}

    def observe(self, project_id: int, event: Event) -> None:
        """Follow one run event (an event-log listener)."""
        match event.kind:
            case "task_complete":
                self.sessions.labels(outcome="success" if event.success else "failure").inc()
            case "merge":
                self.merges.labels(status=event.status.split(":")[0][:32]).inc()
            case "cost_update":
                self.cost.labels(model=event.model[:64]).inc(max(0.0, event.cost_usd))
            case "batch_start":
                self.batches.inc()
            case "agent_status":
                self._running[project_id] = len(event.running)
                self.agents_running.set(sum(self._running.values()))
            case "run_finished":
                self._running.pop(project_id, None)
                self.agents_running.set(sum(self._running.values()))
            case _:
                pass

    async def render(self, store: Store) -> bytes:
        """The exposition text, with the store-backed gauges read now."""
        projects = await store.list_projects()
        totals = dict.fromkeys(TaskStatus, 0)
        for project in projects:
            for status, count in (await store.task_counts(project.id)).items():
                totals[status] += count
        for status, count in totals.items():
            self.tasks.labels(status=status.value).set(count)
        self.projects.set(len(projects))
        return generate_latest(self.registry)
