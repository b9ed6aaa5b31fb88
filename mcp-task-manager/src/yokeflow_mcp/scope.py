"""What one agent may see and change: a project, and optionally one task of it.

A :class:`Scope` is fixed when a stdio server starts (``--project``, ``--task``), or comes from
the bearer token of each HTTP request (:mod:`yokeflow_mcp.tokens`). Every tool resolves the
records it is asked about inside the scope's project — a task or epic of another project is
"unknown", exactly as if it did not exist — and a task-scoped agent may change only its own task.
"""

from __future__ import annotations

from dataclasses import dataclass

from yokeflow.errors import PermanentError

__all__ = ["AccessDeniedError", "Scope"]


class AccessDeniedError(PermanentError):
    """The caller's scope (its token, or the server's flags) does not allow this."""


@dataclass(frozen=True, slots=True)
class Scope:
    """A project, optionally narrowed to one task, and the name claims are recorded under."""

    project_id: int
    task_id: int | None = None
    """When set, only this task may be changed (its status, tests, dependencies)."""
    worker: str = "mcp"
    """Recorded as ``claimed_by`` when this scope claims a task."""

    @property
    def task_scoped(self) -> bool:
        return self.task_id is not None

    def check_task_change(self, task_id: int, task_key: str) -> None:
        """Refuse changing any task but the scope's own, when the scope is task-scoped."""
        if self.task_id is not None and task_id != self.task_id:
            raise AccessDeniedError(
                f"this session may only change its own task; task {task_key} is another task"
            )

    def check_planning(self, action: str) -> None:
        """Refuse plan-wide changes (new epics and tasks, completing the project) to one task."""
        if self.task_id is not None:
            raise AccessDeniedError(
                f"{action} needs a project-wide session; this session belongs to one task "
                "(use declare_dependency to wait for another task)"
            )
