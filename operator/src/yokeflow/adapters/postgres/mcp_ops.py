"""The plan edits of the MCP task tools, each one PostgreSQL transaction.

Implements :class:`yokeflow.ports.plan_edits.PlanEdits`. Locks follow the store's order (task
before project, epic before project) so these transactions cannot deadlock with the store's own:

* :meth:`PostgresPlanEdits.declare_dependency` locks the task, then the project row (which
  serializes every dependency edit of a project, so two edits cannot close a cycle together),
  checks the whole graph with the new edge, and parks the task in the same transaction;
* :meth:`PostgresPlanEdits.add_tasks` locks the epic, then the project, and inserts every task
  or none;
* :meth:`PostgresPlanEdits.complete_project` locks the project row — task creation takes the same
  lock — and refuses while any task is unfinished.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.adapters.postgres.errors import translate_errors
from yokeflow.core.graph import GraphEpic, GraphTask, resolve
from yokeflow.core.records import Project, Task, TaskStatus, Test
from yokeflow.core.status import check_task_transition
from yokeflow.errors import InvalidTransitionError, NotFoundError, PlanError
from yokeflow.ports.plan_edits import NewTask, Parking

__all__ = ["PostgresPlanEdits"]

_PARKABLE = (TaskStatus.RUNNING, TaskStatus.PENDING)


@translate_errors
class PostgresPlanEdits:
    """The :class:`~yokeflow.ports.plan_edits.PlanEdits` port over an asyncpg pool.

    Like the store, it raises only YokeFlow errors (a duplicate key, a lost connection…).
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def get_test(self, test_id: int) -> Test | None:
        row = await self._pool.fetchrow("SELECT * FROM tests WHERE id = $1", test_id)
        return None if row is None else rows.test(row)

    async def add_tasks(
        self, project_id: int, epic_id: int, tasks: Sequence[NewTask]
    ) -> list[Task]:
        keys = [t.key for t in tasks]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise PlanError(f"epic {epic_id}", "tasks", f"duplicate key {', '.join(duplicates)}")
        async with self._pool.acquire() as conn, conn.transaction():
            epic = await conn.fetchrow(
                "SELECT project_id, key, status FROM epics WHERE id = $1 FOR UPDATE", epic_id
            )
            if epic is None or epic["project_id"] != project_id:
                raise NotFoundError(f"project {project_id} has no epic {epic_id}")
            if epic["status"] == "done":
                raise InvalidTransitionError(
                    f"epic {epic['key']} is done; add the tasks to an epic that is not finished"
                )
            await _lock_project(conn, project_id)
            existing = await _task_rows(conn, project_id)
            taken = sorted(set(keys) & {r["key"] for r in existing})
            if taken:
                raise PlanError(
                    f"epic {epic['key']}", "tasks", f"task key already used: {', '.join(taken)}"
                )
            known = {r["key"] for r in existing} | set(keys)
            unknown = sorted({d for t in tasks for d in t.depends_on} - known)
            if unknown:
                raise NotFoundError(f"project {project_id} has no task {', '.join(unknown)}")
            planned = [_graph_row(r, _keys(existing)) for r in existing] + [
                _new_graph_task(t, epic_id) for t in tasks
            ]
            await _refuse_cycles(conn, project_id, planned, f"epic {epic['key']}")
            inserted: dict[str, int] = {}
            for task in tasks:
                inserted[task.key] = await conn.fetchval(
                    """
                    INSERT INTO tasks (project_id, epic_id, key, title, description, priority,
                                       position, estimate_minutes, task_type, dependency_type,
                                       pinned_model)
                    VALUES ($1, $2, $3, $4, $5, $6,
                            (SELECT count(*) FROM tasks WHERE project_id = $1), $7, $8, $9, $10)
                    RETURNING id
                    """,
                    project_id,
                    epic_id,
                    task.key,
                    task.title,
                    task.description,
                    task.priority,
                    task.estimate_minutes,
                    task.task_type,
                    task.dependency_type,
                    task.pinned_model,
                )
            ids = {r["key"]: r["id"] for r in existing} | inserted
            found = []
            for task in tasks:
                found.append(
                    await conn.fetchrow(
                        "UPDATE tasks SET depends_on = $2 WHERE id = $1 RETURNING *",
                        inserted[task.key],
                        [ids[d] for d in task.depends_on],
                    )
                )
        return [rows.task(r) for r in found]

    async def declare_dependency(self, task_id: int, depends_on: int, *, reason: str) -> Parking:
        async with self._pool.acquire() as conn, conn.transaction():
            # The project first, then the task (the store's lock order: see set_task_dependencies).
            project_id = await conn.fetchval("SELECT project_id FROM tasks WHERE id = $1", task_id)
            if project_id is None:
                raise NotFoundError(f"task {task_id} does not exist")
            await _lock_project(conn, project_id)
            current = await conn.fetchrow("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", task_id)
            task = rows.task(current)
            name = f"{task.key} ({task.id})"
            if task.status not in _PARKABLE:
                raise InvalidTransitionError(
                    f"task {name} is {task.status.value}; only a running or pending task can "
                    "declare a dependency"
                )
            existing = await _task_rows(conn, task.project_id)
            keys = _keys(existing)
            needed = next((r for r in existing if r["id"] == depends_on), None)
            if needed is None:
                raise NotFoundError(f"project {task.project_id} has no task {depends_on}")
            if depends_on == task_id:
                raise PlanError(f"task {task.key}", "depends_on", "a task cannot depend on itself")
            if needed["status"] == TaskStatus.DONE.value:
                return Parking(task=task, previous=task.status, parked=False)
            hard = [*task.hard_dependencies]
            if depends_on not in hard:
                hard.append(depends_on)
            soft = [i for i in task.soft_dependencies if i != depends_on]
            planned = [_graph_row(r, keys) for r in existing if r["id"] != task_id]
            planned.append(
                GraphTask(
                    key=task.key,
                    epic=str(task.epic_id),
                    depends_on=tuple(keys[i] for i in hard),
                    soft_depends_on=tuple(keys[i] for i in soft if i in keys),
                )
            )
            await _refuse_cycles(conn, task.project_id, planned, f"task {task.key}")
            if task.status == TaskStatus.RUNNING:
                check_task_transition(task.status, TaskStatus.PENDING, name)
            note = f"waiting for {needed['key']}: {reason}".strip().removesuffix(":")
            row = await conn.fetchrow(
                """
                UPDATE tasks
                SET depends_on = $2, dependency_type = 'hard', soft_depends_on = $3,
                    status = 'pending', claimed_by = NULL, last_error = $4,
                    updated_at = clock_timestamp()
                WHERE id = $1
                RETURNING *
                """,
                task_id,
                hard,
                soft,
                note,
            )
        return Parking(task=rows.task(row), previous=task.status, parked=True)

    async def complete_project(self, project_id: int, summary: str) -> Project:
        async with self._pool.acquire() as conn, conn.transaction():
            project = await conn.fetchrow(
                "SELECT * FROM projects WHERE id = $1 FOR UPDATE", project_id
            )
            if project is None:
                raise NotFoundError(f"project {project_id} does not exist")
            unfinished = await conn.fetch(
                "SELECT key, status FROM tasks WHERE project_id = $1 AND status <> 'done'"
                " ORDER BY position, id",
                project_id,
            )
            if unfinished:
                shown = ", ".join(f"{r['key']} ({r['status']})" for r in unfinished[:5])
                more = f" and {len(unfinished) - 5} more" if len(unfinished) > 5 else ""
                raise InvalidTransitionError(
                    f"project {project['name']} cannot be marked complete: "
                    f"{len(unfinished)} task(s) are not done: {shown}{more}"
                )
            if project["metadata"].get("completed"):
                return rows.project(project)
            row = await conn.fetchrow(
                "UPDATE projects SET metadata = metadata || $2, updated_at = now() WHERE id = $1"
                " RETURNING *",
                project_id,
                {
                    "completed": True,
                    "completed_at": datetime.now(UTC).isoformat(),
                    "completion_summary": summary,
                },
            )
        return rows.project(row)


async def _lock_project(conn: Any, project_id: int) -> None:
    # The same lock the store takes for its dependency edits and task creation.
    await conn.execute("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", project_id)


async def _task_rows(conn: Any, project_id: int) -> list[Any]:
    return list(
        await conn.fetch(
            "SELECT id, key, epic_id, status, depends_on, dependency_type, soft_depends_on"
            " FROM tasks WHERE project_id = $1",
            project_id,
        )
    )


def _keys(task_rows: Iterable[Any]) -> dict[int, str]:
    return {r["id"]: r["key"] for r in task_rows}


def _graph_row(row: Any, keys: dict[int, str]) -> GraphTask:
    deps = [keys[i] for i in row["depends_on"] if i in keys]
    soft = [keys[i] for i in row["soft_depends_on"] if i in keys]
    hard = row["dependency_type"] == "hard"
    return GraphTask(
        key=row["key"],
        epic=str(row["epic_id"]),
        depends_on=tuple(deps if hard else ()),
        soft_depends_on=tuple(soft if hard else deps + soft),
    )


def _new_graph_task(task: NewTask, epic_id: int) -> GraphTask:
    hard = task.dependency_type == "hard"
    return GraphTask(
        key=task.key,
        epic=str(epic_id),
        depends_on=task.depends_on if hard else (),
        soft_depends_on=() if hard else task.depends_on,
    )


async def _refuse_cycles(
    conn: Any, project_id: int, planned: Sequence[GraphTask], subject: str
) -> None:
    """Refuse the change when the project's graph with it would have a cycle; names the cycle."""
    epic_rows = await conn.fetch(
        "SELECT id, depends_on FROM epics WHERE project_id = $1", project_id
    )
    epics = [
        GraphEpic(key=str(r["id"]), depends_on=tuple(str(d) for d in r["depends_on"]))
        for r in epic_rows
    ]
    cycles = resolve(planned, epics).circular_deps
    if cycles:
        shown = " -> ".join((*cycles[0], cycles[0][0]))
        raise PlanError(subject, "depends_on", f"the dependencies would form a cycle: {shown}")
