"""A project's run as the API and the CLI see it: status, start, cancel, delete.

One function per use case, over the store and the :class:`~yokeflow.ports.runs.RunControl` port;
``yokeflow status|cancel|delete`` and the API's project and ``parallel`` routes call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from yokeflow.core.plan import Plan
from yokeflow.core.records import Project, TaskStatus
from yokeflow.errors import AlreadyExistsError, ConfigError, InvalidTransitionError, NotFoundError
from yokeflow.ports.runs import RunControl
from yokeflow.ports.store import Store

__all__ = [
    "CANCEL_FLAG",
    "ProjectStatus",
    "cancel_run",
    "create_from_plan",
    "delete_project",
    "project_or_404",
    "project_status",
    "start_run",
]

CANCEL_FLAG = "cancel_requested"
"""Project metadata key that a cancel sets; a running run polls it and stops."""


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """Where a project stands: tasks by status, batches, worktrees, cost, whether it runs."""

    project: Project
    tasks: dict[str, int]
    batches: int
    worktrees: dict[str, int]
    cost_usd: Decimal
    cancel_requested: bool
    active: bool
    """A run of it is active in this process (a run in another process shows as False)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project.name,
            "project_id": self.project.id,
            "tasks": self.tasks,
            "batches": self.batches,
            "worktrees": self.worktrees,
            "cost_usd": str(self.cost_usd),
            "cancel_requested": self.cancel_requested,
            "active": self.active,
        }


async def create_from_plan(
    store: Store, plan: Plan, repository: Path, name: str | None = None
) -> Project:
    """Store ``plan`` as a new project (named ``name``, default the plan's) run in ``repository``."""
    if name is not None:
        plan = plan.model_copy(update={"name": name})
    if not (repository / ".git").exists():
        raise ConfigError(f"{repository} is not a git repository (run `git init` there first)")
    if await store.get_project_by_name(plan.name) is not None:
        raise AlreadyExistsError(
            f"a project named {plan.name!r} already exists in this database: "
            "continue it with `yokeflow run --resume`, or give the plan another name"
        )
    stored = await store.create_plan(plan, metadata={"repository": str(repository)})
    return stored.project


async def project_or_404(store: Store, project_id: int) -> Project:
    """The project, or a NotFoundError naming it."""
    project = await store.get_project(project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} does not exist")
    return project


async def project_status(store: Store, project_id: int, runs: RunControl | None) -> ProjectStatus:
    project = await project_or_404(store, project_id)
    counts = await store.task_counts(project_id)
    worktrees: dict[str, int] = {}
    for tree in await store.list_worktrees(project_id):
        worktrees[tree.status.value] = worktrees.get(tree.status.value, 0) + 1
    return ProjectStatus(
        project=project,
        tasks={str(k): v for k, v in counts.items()},
        batches=len(await store.list_parallel_batches(project_id)),
        worktrees=worktrees,
        cost_usd=await store.get_project_cost_total(project_id),
        cancel_requested=bool(project.metadata.get(CANCEL_FLAG)),
        active=runs is not None and runs.active(project_id),
    )


async def start_run(store: Store, runs: RunControl, project_id: int) -> Project:
    """Start (or resume) the project's run in the background; refused when all its work is done."""
    project = await project_or_404(store, project_id)
    counts = await store.task_counts(project_id)
    if sum(counts.values()) == counts.get(TaskStatus.DONE, 0) and sum(counts.values()) > 0:
        unmerged = [t for t in await store.list_worktrees(project_id) if t.status.value != "merged"]
        if not any(t.status.value in ("conflict", "failed") for t in unmerged):
            raise InvalidTransitionError(f"project {project.name!r}: every task is done already")
    await store.update_project_metadata(project_id, {CANCEL_FLAG: False})
    await runs.start(project)
    return project


async def cancel_run(store: Store, runs: RunControl | None, project_id: int) -> bool:
    """Ask the project's run to stop, here or in another process; True when one runs here."""
    await project_or_404(store, project_id)
    await store.update_project_metadata(project_id, {CANCEL_FLAG: True})
    return runs is not None and runs.cancel(project_id)


async def delete_project(store: Store, runs: RunControl | None, project_id: int) -> None:
    """Delete a project's records (its repository and branches stay); refused while it runs."""
    project = await project_or_404(store, project_id)
    if runs is not None and runs.active(project_id):
        raise InvalidTransitionError(
            f"project {project.name!r} is running: cancel it before deleting it"
        )
    if (await store.task_counts(project_id)).get(TaskStatus.RUNNING, 0):
        raise InvalidTransitionError(
            f"project {project.name!r} has running tasks: cancel its run before deleting it"
        )
    await store.delete_project(project_id)
