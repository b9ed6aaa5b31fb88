"""The board: every task of a project as the dashboard and ``yokeflow tasks`` show it.

One read of the store gives each task its board state (:mod:`yokeflow.core.board`), its epic,
dependencies (ids), attempts, model, cost, duration, failure reason and branch — what a swimlane
card and a task panel need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from yokeflow.core.board import BoardState, board_state
from yokeflow.core.records import Epic, Task, TaskStatus
from yokeflow.core.worktree import WorktreeRecord
from yokeflow.ports.store import Store
from yokeflow.services.runs import project_or_404
from yokeflow.services.task_actions import task_of_project

__all__ = ["Board", "BoardTask", "board", "board_task"]


@dataclass(frozen=True, slots=True)
class BoardTask:
    task: Task
    state: BoardState
    epic_key: str
    cost_usd: Decimal
    branch: str | None
    worktree_status: str | None
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class Board:
    epics: tuple[Epic, ...]
    tasks: tuple[BoardTask, ...]


def _duration(started: datetime | None, completed: datetime | None) -> float | None:
    if started is None or completed is None:
        return None
    return max(0.0, (completed - started).total_seconds())


async def board(store: Store, project_id: int) -> Board:
    """Every task of the project in plan order, with what a person needs to see of it."""
    await project_or_404(store, project_id)
    epics = await store.list_epics(project_id)
    tasks = await store.get_tasks_with_dependencies(project_id)
    trees: dict[int, WorktreeRecord] = {}
    for record in await store.list_worktrees(project_id):
        if record.task_id is not None:
            trees[record.task_id] = max(
                record, trees.get(record.task_id, record), key=lambda r: r.id
            )
    spent: dict[int, Decimal] = {}
    for cost in await store.list_agent_costs(project_id):
        if cost.task_id is not None:
            spent[cost.task_id] = spent.get(cost.task_id, Decimal(0)) + cost.cost_usd
    epic_keys = {e.id: e.key for e in epics}
    merged = {
        t.id
        for t in tasks
        if t.status is TaskStatus.DONE and t.id in trees and trees[t.id].status.value == "merged"
    }
    out = []
    for task in tasks:
        tree = trees.get(task.id)
        ready = all(d in merged for d in task.hard_dependencies)
        out.append(
            BoardTask(
                task=task,
                state=board_state(task.status, tree.status if tree else None, ready),
                epic_key=epic_keys.get(task.epic_id, ""),
                cost_usd=spent.get(task.id, Decimal(0)),
                branch=tree.branch if tree else None,
                worktree_status=tree.status.value if tree else None,
                duration_seconds=_duration(task.started_at, task.completed_at),
            )
        )
    return Board(tuple(epics), tuple(out))


async def board_task(store: Store, project_id: int, task_id: int) -> BoardTask:
    """One task of the board (NotFoundError when it is not the project's)."""
    await task_of_project(store, project_id, task_id)
    found = [t for t in (await board(store, project_id)).tasks if t.task.id == task_id]
    return found[0]
