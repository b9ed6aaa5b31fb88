"""One ProjectRun carried out by the engine: the same :func:`reconcile` step as local mode, acting
through Jobs.

A :class:`ClusterExecution` holds the run's :class:`RunContext` (store, cluster workspace, Job
launcher, merge lane, the run's limits) and nothing else worth keeping: every pass observes the
store and the Jobs from scratch, so a restarted operator builds a new one and carries on.

A pass (:meth:`ClusterExecution.step`):

1. collects ended merge Jobs and starts the next one (:meth:`JobMergeLane.pump`);
2. numbers the batch this pass may open (task Jobs carry it as a label);
3. runs :func:`~yokeflow.services.reconcile.reconcile` — collect ended task Jobs, observe,
   recover, decide, launch — and
4. starts a merge Job for what it submitted as soon as it is submitted (beside the pass's
   launches), and again at the end for what ended meanwhile.

The project, its epics and tasks are the inline plan, stored once per ProjectRun (keyed by its
namespace, name and uid: a run created again under the same name is a new project).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from decimal import Decimal

from yokeflow.api.v1alpha1 import BatchProgress, ModelsSpec
from yokeflow.core.plan import Plan
from yokeflow.core.records import BatchStatus, Project, Task
from yokeflow.errors import AlreadyExistsError
from yokeflow.ports.launcher import Lease
from yokeflow.ports.store import Store
from yokeflow.services.cluster_workspace import ClusterWorkspace
from yokeflow.services.job_merge_lane import JobMergeLane
from yokeflow.services.reconcile import RunBudgetPort, RunContext, Step, reconcile

__all__ = [
    "BatchCounter",
    "ClusterExecution",
    "SpecModels",
    "batch_progress",
    "project_key",
    "stored_project",
]


def project_key(namespace: str, name: str, uid: str) -> str:
    """The store's name of a ProjectRun's project."""
    return f"{namespace}/{name}@{uid}"


async def stored_project(store: Store, key: str, plan: Plan, repository: str) -> Project:
    """The run's project, stored from ``plan`` the first time (one transaction: all or nothing)."""
    existing = await store.get_project_by_name(key)
    if existing is not None:
        return existing
    try:
        stored = await store.create_plan(
            plan.model_copy(update={"name": key}), metadata={"repository": repository}
        )
    except AlreadyExistsError:
        again = await store.get_project_by_name(key)
        if again is None:
            raise
        return again
    return stored.project


@dataclass
class SpecModels:
    """The run's model choice (``spec.models``): the model the plan pins on the task, else its
    type's model, else the default; tiers (``haiku``, ``sonnet``, ``opus``) become exact model ids."""

    models: ModelsSpec
    default: str
    tiers: dict[str, str]

    async def model_for(self, task: Task, *, attempt: int, escalate: bool) -> str:
        chosen = (
            task.pinned_model
            or self.models.by_task_type.get(task.task_type or "")
            or self.models.default
        )
        chosen = chosen or self.default
        return self.tiers.get(chosen, chosen)


@dataclass
class BatchCounter:
    """The number of the batch the current pass may open (task Jobs carry it as a label)."""

    next: int = 1


async def batch_progress(store: Store, project_id: int) -> BatchProgress:
    batches = await store.list_parallel_batches(project_id)
    done = sum(1 for b in batches if b.status is not BatchStatus.RUNNING)
    return BatchProgress(done=done, total=len(batches))


@dataclass
class ClusterExecution:
    """The engine's view of one ProjectRun (see the module docstring)."""

    context: RunContext
    workspace: ClusterWorkspace
    lane: JobMergeLane
    batches: BatchCounter = field(default_factory=BatchCounter)
    started: bool = False

    async def step(self) -> Step:
        run = self.context
        if not self.started:
            await self.workspace.initialize()
            run.cost_usd = await run.store.get_project_cost_total(run.project_id)
            if run.budget is not None:
                await run.budget.observe_spend(run.cost_usd)
                await self._reserve_running(run.budget)
            self.started = True
        await self.lane.pump()
        existing = await run.store.list_parallel_batches(run.project_id)
        self.batches.next = 1 + max((b.batch_number for b in existing), default=0)
        # The merge Job of what the pass submits starts as soon as it is submitted, beside the
        # rest of the pass (task launches can take seconds at a level of hundreds).
        early = asyncio.create_task(self._merge_once_submitted())
        try:
            step = await reconcile(run)
        except BaseException:
            early.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await early
            raise
        if early.done() or self.lane.submitted.is_set():
            await early  # its merge Job is being created: done before the pass ends
        else:
            early.cancel()  # nothing was submitted
            with contextlib.suppress(asyncio.CancelledError):
                await early
        await self.lane.pump()
        return step

    async def _merge_once_submitted(self) -> None:
        await self.lane.submitted.wait()
        await self.lane.pump()

    async def stop_over_budget(self) -> list[Lease]:
        """``budget.action: cancel``: once the recorded spend reached the run's limit, its running
        task Jobs are stopped (what they pushed stays on their branches); the leases stopped.
        Their tasks are not started again while the budget stays spent."""
        run = self.context
        limit = run.budget.limit() if run.budget is not None else None
        if limit is None or run.cost_usd < Decimal(str(limit)):
            return []
        running = list(await run.launcher.live())
        for lease in running:
            await run.launcher.stop(lease)
        return running

    async def _reserve_running(self, budget: RunBudgetPort) -> None:
        """A restarted operator reserves again what its predecessor's running Jobs may spend,
        so that they and new launches cannot overspend the budget together."""
        run = self.context
        tasks = {t.id: t for t in await run.store.list_tasks(run.project_id)}
        for lease in await run.leases.list_leases(run.project_id):
            task = tasks.get(lease.task_id)
            if lease.kind == "task" and task is not None:
                await budget.reserve(lease.task_key, await budget.estimate(task, lease.model))

    @property
    def cost_usd(self) -> Decimal:
        return self.context.cost_usd
