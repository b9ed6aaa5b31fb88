"""Plan edits the agents' task tools need as single transactions, beyond the :class:`Store`.

The MCP task manager (``yokeflow_mcp``) composes most tools from :class:`~yokeflow.ports.store.Store`
calls that are each one transaction. These operations could not be composed safely from them —
each reads and then writes, and must do both under the same locks — so they are their own port,
implemented by ``yokeflow.adapters.postgres.mcp_ops.PostgresPlanEdits``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from yokeflow.core.records import DependencyType, Project, Task, TaskStatus, Test

__all__ = ["NewTask", "Parking", "PlanEdits"]


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to add to an epic; dependencies are task keys (existing ones or others being added)."""

    key: str
    title: str
    description: str = ""
    priority: int = 0
    estimate_minutes: float = 1.0
    task_type: str | None = None
    depends_on: tuple[str, ...] = ()
    dependency_type: DependencyType = "hard"
    pinned_model: str | None = None
    """The model every attempt runs on (a tier name or a model id), over the cost-based choice."""


@dataclass(frozen=True, slots=True)
class Parking:
    """The outcome of declaring a dependency: the task afterwards, and whether it was parked."""

    task: Task
    previous: TaskStatus
    parked: bool
    """False when the dependency was already done (nothing to wait for, nothing changed)."""


class PlanEdits(Protocol):
    """Atomic plan changes made by agents through the task tools."""

    async def get_test(self, test_id: int) -> Test | None: ...

    async def add_tasks(
        self, project_id: int, epic_id: int, tasks: Sequence[NewTask]
    ) -> list[Task]:
        """Add several tasks to an epic in one transaction: all of them, or none.

        Unknown dependency keys, duplicate keys, a finished epic and dependencies that would form
        a cycle are refused (:class:`~yokeflow.errors.NotFoundError`,
        :class:`~yokeflow.errors.PlanError`, :class:`~yokeflow.errors.InvalidTransitionError`).
        """
        ...

    async def declare_dependency(self, task_id: int, depends_on: int, *, reason: str) -> Parking:
        """Add a hard dependency to a running or pending task and park it until that is done.

        Under the task's row lock: a running task goes back to pending (its claim released), so
        the claim query hands it out again once ``depends_on`` is done. A dependency that would
        form a cycle is a :class:`~yokeflow.errors.PlanError` naming the cycle; nothing changes.
        """
        ...

    async def complete_project(self, project_id: int, summary: str) -> Project:
        """Mark the project complete, refused while any of its tasks is not done."""
        ...
