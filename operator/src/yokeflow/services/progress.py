"""A run's progress as the store records it: one line per task, and the project's whole spend.

The one reading behind ``yokeflow status``, the live view and the end-of-run report, so that they
agree: states from the tasks joined with their worktrees, reasons from the tasks and sessions,
money from ``agent_costs`` (planning and conflict resolutions included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from yokeflow.core.run_view import TaskLine, task_lines
from yokeflow.ports.store import Store
from yokeflow.ports.workspace import WorktreeLedger

__all__ = ["Progress", "read_progress"]


@dataclass(frozen=True, slots=True)
class Progress:
    tasks: tuple[TaskLine, ...]
    cost_usd: Decimal
    """Everything recorded in ``agent_costs`` for the project."""


async def read_progress(
    store: Store, ledger: WorktreeLedger, project_id: int, now: datetime | None = None
) -> Progress:
    """The project's task lines (in plan order) and its recorded spend, read now."""
    lines = task_lines(
        await store.list_tasks(project_id),
        await ledger.list_worktrees(project_id),
        await store.list_sessions(project_id),
        await store.list_agent_costs(project_id),
        now or datetime.now(UTC),
    )
    return Progress(tuple(lines), await store.get_project_cost_total(project_id))
