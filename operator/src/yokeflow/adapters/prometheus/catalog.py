"""Every ``yokeflow_`` metric family, defined once on an injected registry.

Labels are bounded: task states, run phases, models, token kinds, outcomes, merge statuses,
reconcile results, and ``project``: a project's name (the API) or a ProjectRun's
``namespace/name`` (the operator), one per run that exists — never task ids or keys.
The API (and ``yokeflow run --serve``) registers :class:`ApiFamilies`; the operator registers
:class:`OperatorFamilies`. Both carry ``yokeflow_build_info``, told apart by ``component``.
The alert rules and dashboards use only names from :func:`exposed_names`, which a test checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from yokeflow import __version__
from yokeflow.core.events import Event
from yokeflow.core.run_track import RunTrack

__all__ = [
    "MERGE_BUCKETS",
    "TASK_BUCKETS",
    "TOKEN_KINDS",
    "ApiFamilies",
    "ModelSpend",
    "OperatorFamilies",
    "RunEventFamilies",
    "exposed_names",
]

TASK_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0)
"""Agent session lengths: seconds to two hours."""
MERGE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
"""A merge, from its task's session end to the result (the merge queue's wait included)."""
TOKEN_KINDS = ("input", "output", "cache_read", "cache_creation")


def _build_info(registry: CollectorRegistry, component: str) -> Gauge:
    info = Gauge(
        "yokeflow_build_info",
        "Always 1: the running YokeFlow's version and component (api or operator).",
        ["version", "component"],
        registry=registry,
    )
    info.labels(version=__version__, component=component).set(1)
    return info


def _agents_running(registry: CollectorRegistry) -> Gauge:
    return Gauge(
        "yokeflow_agents_running",
        "Agents running now (the API: this process's runs; the operator: its ProjectRuns).",
        registry=registry,
    )


def _queue_depth(registry: CollectorRegistry) -> Gauge:
    return Gauge(
        "yokeflow_queue_depth",
        "Ready tasks of running runs waiting for an agent slot (pending, every dependency done).",
        registry=registry,
    )


def _budgets(registry: CollectorRegistry) -> tuple[Gauge, Gauge]:
    limit = Gauge(
        "yokeflow_budget_usd",
        "A running run's budget limit in dollars (runs with a limit only).",
        ["project"],
        registry=registry,
    )
    remaining = Gauge(
        "yokeflow_budget_remaining_usd",
        "Dollars left to reserve of a running run's budget: limit minus spent and reserved by "
        "running agents (runs with a limit only).",
        ["project"],
        registry=registry,
    )
    return limit, remaining


@dataclass(frozen=True, slots=True)
class ModelSpend:
    """Dollars and tokens of one model, summed over every project in the database."""

    model: str
    cost_usd: float
    tokens: dict[str, int] = field(default_factory=dict)


class _SpendCollector(Collector):
    """Cost and tokens by model as counters, from the store's totals (read at each scrape)."""

    def __init__(self) -> None:
        self.spend: list[ModelSpend] = []

    def describe(self) -> Iterable[Metric]:
        return list(self._families([]))

    def collect(self) -> Iterable[Metric]:
        return list(self._families(self.spend))

    @staticmethod
    def _families(spend: list[ModelSpend]) -> Iterator[Metric]:
        cost = CounterMetricFamily(
            "yokeflow_cost_usd", "Dollars spent by agents, by model (the store's record).", labels=["model"]
        )  # fmt: skip
        tokens = CounterMetricFamily(
            "yokeflow_tokens",
            "Tokens used by agents, by model and kind (input, output, cache_read, cache_creation).",
            labels=["model", "kind"],
        )
        for row in spend:
            cost.add_metric([row.model], row.cost_usd)
            for kind in TOKEN_KINDS:
                tokens.add_metric([row.model, kind], float(row.tokens.get(kind, 0)))
        yield cost
        yield tokens


class RunEventFamilies:
    """What run events count: sessions and their durations, merges and theirs, batches. The API
    follows its own runs' events; the operator follows the events of the runs it carries out."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.sessions = Counter(
            "yokeflow_task_sessions",
            "Agent sessions on tasks that ended, by outcome (success or failure).",
            ["outcome"],
            registry=registry,
        )
        self.task_duration = Histogram(
            "yokeflow_task_duration_seconds",
            "How long agent sessions on tasks took, by outcome.",
            ["outcome"],
            buckets=TASK_BUCKETS,
            registry=registry,
        )
        self.merges = Counter(
            "yokeflow_merges",
            "Merge attempts of task branches, by result (merged, already_merged, conflict, "
            "verification_failed, error); conflicts are status=conflict.",
            ["status"],
            registry=registry,
        )
        self.merge_duration = Histogram(
            "yokeflow_merge_duration_seconds",
            "From a task's session end to its merge result (the merge queue's wait included).",
            buckets=MERGE_BUCKETS,
            registry=registry,
        )
        self.batches = Counter(
            "yokeflow_batches_started", "Scheduling rounds that launched tasks.", registry=registry
        )

    def follow(self, track: RunTrack, event: Event) -> None:
        """Count one event of the run ``track`` follows (``track`` is fed it here)."""
        merge_seconds = track.follow(event)
        match event.kind:
            case "task_complete":
                outcome = "success" if event.success else "failure"
                self.sessions.labels(outcome=outcome).inc()
                self.task_duration.labels(outcome=outcome).observe(max(0.0, event.duration_seconds))
            case "merge":
                self.merges.labels(status=event.status.split(":")[0][:32]).inc()
                if merge_seconds is not None:
                    self.merge_duration.observe(merge_seconds)
            case "batch_start":
                self.batches.inc()
            case _:
                pass


class ApiFamilies:
    """The API's families: the store's view (read at each scrape) and the runs of this process
    (from their events)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.build_info = _build_info(registry, "api")
        self.projects = Gauge("yokeflow_projects", "Projects in the database.", registry=registry)
        self.tasks = Gauge(
            "yokeflow_tasks", "Tasks of every project by status.", ["status"], registry=registry
        )
        self.queue_depth = _queue_depth(registry)
        self.runs = Gauge(
            "yokeflow_runs",
            "Projects by the phase of their latest run in this process.",
            ["phase"],
            registry=registry,
        )
        self.agents_running = _agents_running(registry)
        self.events = RunEventFamilies(registry)
        self.spend = _SpendCollector()
        registry.register(self.spend)
        self.budget, self.budget_remaining = _budgets(registry)
        self.makespan = Gauge(
            "yokeflow_run_makespan_seconds",
            "A run's wall time so far (final once it ended).",
            ["project"],
            registry=registry,
        )
        self.lower_bound = Gauge(
            "yokeflow_run_lower_bound_seconds",
            "The least time any schedule needed for the run's measured task times: the longest "
            "dependency chain, or the total agent time over the concurrency, whichever is longer.",
            ["project"],
            registry=registry,
        )
        self.worktree_bytes = Gauge(
            "yokeflow_worktree_disk_bytes",
            "Disk used by a project's task worktrees on this machine.",
            ["project"],
            registry=registry,
        )


class OperatorFamilies:
    """The operator's families: ProjectRuns by phase and what its reconciles did."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.build_info = _build_info(registry, "operator")
        self.project_runs = Gauge(
            "yokeflow_project_runs",
            "ProjectRuns this operator serves, by the phase of their status.",
            ["phase"],
            registry=registry,
        )
        self.project_run_tasks = Gauge(
            "yokeflow_project_run_tasks",
            "Tasks of the ProjectRuns this operator serves, by state.",
            ["state"],
            registry=registry,
        )
        self.project_run_cost = Gauge(
            "yokeflow_project_run_cost_usd",
            "Dollars a ProjectRun has spent so far (its status), by ProjectRun (namespace/name).",
            ["project"],
            registry=registry,
        )
        self.agents_running = _agents_running(registry)
        self.queue_depth = _queue_depth(registry)
        self.budget, self.budget_remaining = _budgets(registry)
        self.reconciles = Counter(
            "yokeflow_reconciles",
            "Reconciles of ProjectRuns, by result (ok, temporary_error, permanent_error).",
            ["result"],
            registry=registry,
        )
        self.reconcile_errors = Counter(
            "yokeflow_reconcile_errors",
            "Reconciles of ProjectRuns that raised, by error class.",
            ["error"],
            registry=registry,
        )
        self.events = RunEventFamilies(registry)
        self.reconcile_duration = Histogram(
            "yokeflow_reconcile_duration_seconds",
            "How long one reconcile of a ProjectRun took.",
            registry=registry,
        )


def exposed_names(registry: CollectorRegistry) -> set[str]:
    """Every series name ``registry`` exposes (``_total``, ``_bucket``… included), including
    families whose labelled children do not exist yet."""
    names: set[str] = set()
    for family in registry.collect():
        names.add(family.name)
        match family.type:
            case "counter":
                names.update({f"{family.name}_total", f"{family.name}_created"})
            case "histogram":
                names.update(
                    f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count", "created")
                )
            case _:
                pass
        names.update(sample.name for sample in family.samples)
    return names
