"""Tasks in PostgreSQL: creation, dependencies, and the race-free claim and status changes.

The transactions here are what make many concurrent agents safe (the spec's "transaction
safety"). What each task waits for is kept by the database (``tasks.waiting_for`` and
``epics.all_tasks_done``, maintained by the triggers of ``0030_ready_counts.sql`` in the
transaction of every change), so both hot paths are one statement, one round trip:

* a claim takes the first task of the partial index ``tasks_ready_idx`` (pending, waiting for
  nothing, in claim order) with ``FOR UPDATE SKIP LOCKED`` — concurrent claimers skip it instead
  of waiting, and never get the same task — and marks it running (and its epic, the first time);
* a status change (``yokeflow_change_task_status``) locks its task, changes it only from a status
  the state machine allows (computed here, from :mod:`yokeflow.core.status`) and, for running,
  only when it waits for nothing. A task becoming done updates its dependents' counts and, when
  it was the epic's last unfinished task, completes the epic — exactly once (see the migration);
* a completion and the worker's next claim (``yokeflow_complete_and_claim``, ``0070``): both of
  the above in one transaction — one round trip and one commit per task instead of two.

Dependencies only ever become satisfied (done is final), so a claim that saw a task ready is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.graph import GraphEpic, GraphTask, resolve
from yokeflow.core.records import DependencyType, Task, TaskChange, TaskStatus
from yokeflow.core.status import TASK_TRANSITIONS, check_task_transition, parse_task_status
from yokeflow.errors import AlreadyExistsError, InvalidTransitionError, NotFoundError, PlanError

__all__ = ["TaskQueries"]

# The first ready task in claim order (priority, then plan order), straight off tasks_ready_idx;
# the scan stops at the first one no other claimer has locked. ``LIMIT 1`` is written out: with
# a parameter there PostgreSQL plans the statement again on every call (its generic plan is
# costed for a tenth of the rows), which took more server time than the claim itself.
CLAIM_ONE = """
WITH claimed AS (
    UPDATE tasks
    SET status = 'running', attempts = attempts + 1, claimed_by = $2, last_error = NULL,
        started_at = clock_timestamp(), updated_at = clock_timestamp()
    WHERE id = (SELECT id FROM tasks
                WHERE project_id = $1 AND status = 'pending' AND waiting_for = 0
                ORDER BY priority, position, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
    RETURNING *
), started AS (
    UPDATE epics SET status = 'running'
    WHERE id = (SELECT epic_id FROM claimed) AND status = 'pending'
)
SELECT * FROM claimed
"""

# The first ``$3`` ready tasks in claim order, the same way (a batch claim).
CLAIM_MANY = """
WITH claimed AS (
    UPDATE tasks
    SET status = 'running', attempts = attempts + 1, claimed_by = $2, last_error = NULL,
        started_at = clock_timestamp(), updated_at = clock_timestamp()
    WHERE id = ANY (ARRAY(SELECT id FROM tasks
                          WHERE project_id = $1 AND status = 'pending' AND waiting_for = 0
                          ORDER BY priority, position, id
                          LIMIT $3
                          FOR UPDATE SKIP LOCKED))
    RETURNING *
), started AS (
    UPDATE epics SET status = 'running'
    WHERE id IN (SELECT epic_id FROM claimed) AND status = 'pending'
)
SELECT * FROM claimed ORDER BY priority, position, id
"""

CHANGE_STATUS = """
SELECT (c.task).*, c.previous, c.changed, c.epic_completed
FROM yokeflow_change_task_status($1, $2, $3, $4) AS c
"""

COMPLETE_AND_CLAIM = """
SELECT (c.task).*, c.previous, c.changed, c.epic_completed
FROM yokeflow_complete_and_claim($1, $2, $3) AS c
"""

_UNFINISHED_DEPENDENCIES = """
SELECT d.key
FROM tasks t
JOIN epics e ON e.id = t.epic_id
JOIN tasks d ON (t.dependency_type = 'hard' AND d.id = ANY (t.depends_on))
             OR d.epic_id = ANY (e.depends_on)
WHERE t.id = $1 AND d.status <> 'done'
ORDER BY d.position
LIMIT 5
"""


def _allowed_from(new: TaskStatus, expected: TaskStatus | None) -> list[str]:
    """The statuses a task may be in for the change to ``new`` (and be ``expected``, if given)."""
    return [
        s.value
        for s, targets in TASK_TRANSITIONS.items()
        if new in targets and (expected is None or s == expected)
    ]


class TaskQueries:
    """The ``tasks`` part of the store."""

    _pool: Any

    async def create_task(
        self,
        project_id: int,
        epic_id: int,
        key: str,
        title: str,
        *,
        description: str = "",
        priority: int = 0,
        estimate_minutes: float = 1.0,
        task_type: str | None = None,
        depends_on: Sequence[int] = (),
        dependency_type: DependencyType = "hard",
        soft_depends_on: Sequence[int] = (),
        pinned_model: str | None = None,
    ) -> Task:
        async with self._pool.acquire() as conn, conn.transaction():
            # Locking the epic orders this insert against the epic's completion.
            epic = await conn.fetchrow(
                "SELECT project_id, status FROM epics WHERE id = $1 FOR UPDATE", epic_id
            )
            if epic is None or epic["project_id"] != project_id:
                raise NotFoundError(f"project {project_id} has no epic {epic_id}")
            if epic["status"] == "done":
                raise InvalidTransitionError(
                    f"epic {epic_id} is done; add the task to an epic that is not finished"
                )
            await _lock_project(conn, project_id)
            await _check_graph(
                conn, project_id, (None, key, epic_id, depends_on, dependency_type, soft_depends_on)
            )
            row = await conn.fetchrow(
                """
                INSERT INTO tasks (project_id, epic_id, key, title, description, priority,
                                   position, estimate_minutes, task_type, depends_on,
                                   dependency_type, soft_depends_on, pinned_model)
                VALUES ($1, $2, $3, $4, $5, $6,
                        (SELECT count(*) FROM tasks WHERE project_id = $1), $7, $8, $9, $10, $11,
                        $12)
                RETURNING *
                """,
                project_id,
                epic_id,
                key,
                title,
                description,
                priority,
                estimate_minutes,
                task_type,
                list(depends_on),
                dependency_type,
                list(soft_depends_on),
                pinned_model,
            )
        return rows.task(row)

    async def get_task(self, task_id: int) -> Task | None:
        row = await self._pool.fetchrow("SELECT * FROM tasks WHERE id = $1", task_id)
        return None if row is None else rows.task(row)

    async def get_task_by_key(self, project_id: int, key: str) -> Task | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM tasks WHERE project_id = $1 AND key = $2", project_id, key
        )
        return None if row is None else rows.task(row)

    async def list_tasks(
        self,
        project_id: int,
        *,
        status: TaskStatus | None = None,
        epic_id: int | None = None,
    ) -> list[Task]:
        found = await self._pool.fetch(
            """
            SELECT * FROM tasks
            WHERE project_id = $1
              AND ($2::text IS NULL OR status = $2)
              AND ($3::int IS NULL OR epic_id = $3)
            ORDER BY position, id
            """,
            project_id,
            None if status is None else status.value,
            epic_id,
        )
        return [rows.task(r) for r in found]

    async def task_counts(self, project_id: int) -> dict[TaskStatus, int]:
        found = await self._pool.fetch(
            "SELECT status, count(*) AS n FROM tasks WHERE project_id = $1 GROUP BY status",
            project_id,
        )
        counts = dict.fromkeys(TaskStatus, 0)
        for r in found:
            counts[TaskStatus(r["status"])] = r["n"]
        return counts

    async def get_task_dependencies(self, task_id: int) -> list[Task]:
        found = await self._pool.fetch(
            """
            SELECT d.* FROM tasks t
            JOIN tasks d ON d.id = ANY (t.depends_on || t.soft_depends_on)
            WHERE t.id = $1
            ORDER BY d.position, d.id
            """,
            task_id,
        )
        return [rows.task(r) for r in found]

    async def set_task_dependencies(
        self,
        task_id: int,
        depends_on: Sequence[int],
        *,
        dependency_type: DependencyType = "hard",
        soft_depends_on: Sequence[int] = (),
    ) -> Task:
        async with self._pool.acquire() as conn, conn.transaction():
            # The project first, then the task: an epic-dependency edit holds the project while
            # its trigger locks the epic's tasks, so the other order deadlocks with it.
            project_id = await conn.fetchval("SELECT project_id FROM tasks WHERE id = $1", task_id)
            if project_id is None:
                raise NotFoundError(f"task {task_id} does not exist")
            await _lock_project(conn, project_id)
            current = await conn.fetchrow("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", task_id)
            await _check_graph(
                conn,
                project_id,
                (
                    task_id,
                    current["key"],
                    current["epic_id"],
                    depends_on,
                    dependency_type,
                    soft_depends_on,
                ),
            )
            row = await conn.fetchrow(
                """
                UPDATE tasks SET depends_on = $2, dependency_type = $3, soft_depends_on = $4,
                                 updated_at = clock_timestamp()
                WHERE id = $1 RETURNING *
                """,
                task_id,
                list(depends_on),
                dependency_type,
                list(soft_depends_on),
            )
        return rows.task(row)

    async def get_tasks_with_dependencies(self, project_id: int) -> list[Task]:
        return await self.list_tasks(project_id)

    async def claim_next_task(self, project_id: int, *, worker: str | None = None) -> Task | None:
        found = await self.claim_tasks(project_id, 1, worker=worker)
        return found[0] if found else None

    async def claim_tasks(
        self, project_id: int, count: int, *, worker: str | None = None
    ) -> list[Task]:
        if count < 1:
            return []
        if count == 1:
            found = await self._pool.fetch(CLAIM_ONE, project_id, worker)
        else:
            found = await self._pool.fetch(CLAIM_MANY, project_id, worker, count)
        return [rows.task(r) for r in found]

    async def update_task_status(
        self,
        task_id: int,
        status: TaskStatus | str,
        *,
        error: str | None = None,
        expected: TaskStatus | None = None,
    ) -> TaskChange:
        new = status if isinstance(status, TaskStatus) else parse_task_status(status)
        allowed = _allowed_from(new, expected)
        for _ in range(3):
            row = await self._pool.fetchrow(CHANGE_STATUS, task_id, new.value, allowed, error)
            if row is None:
                raise NotFoundError(f"task {task_id} does not exist")
            previous = TaskStatus(row["previous"])
            if row["changed"]:
                return TaskChange(
                    task=rows.task(row), previous=previous, epic_completed=row["epic_completed"]
                )
            name = f"{row['key']} ({task_id})"
            if expected is not None and previous != expected:
                raise InvalidTransitionError(
                    f"task {name} is {previous.value}, not {expected.value}"
                )
            check_task_transition(previous, new, name)
            waiting = await self._pool.fetch(_UNFINISHED_DEPENDENCIES, task_id)
            if waiting:
                keys = ", ".join(r["key"] for r in waiting)
                raise InvalidTransitionError(
                    f"task {name} cannot start before its dependencies are done ({keys})"
                )
            # Its last dependency finished between the two statements: try again.
        raise InvalidTransitionError(f"task {name} cannot start: its dependencies are changing")

    async def complete_task(self, task_id: int) -> TaskChange:
        return await self.update_task_status(task_id, TaskStatus.DONE)

    async def complete_and_claim(
        self, task_id: int, *, worker: str | None = None
    ) -> tuple[TaskChange, Task | None]:
        found = await self._pool.fetch(
            COMPLETE_AND_CLAIM, task_id, _allowed_from(TaskStatus.DONE, None), worker
        )
        if not found:
            raise NotFoundError(f"task {task_id} does not exist")
        done = found[0]
        previous = TaskStatus(done["previous"])
        if not done["changed"]:
            check_task_transition(previous, TaskStatus.DONE, f"{done['key']} ({task_id})")
            raise InvalidTransitionError(f"task {done['key']} ({task_id}) cannot become done")
        change = TaskChange(
            task=rows.task(done), previous=previous, epic_completed=done["epic_completed"]
        )
        return change, (rows.task(found[1]) if len(found) > 1 else None)

    async def note_task_error(self, task_id: int, error: str) -> Task:
        row = await self._pool.fetchrow(
            "UPDATE tasks SET last_error = $2, updated_at = clock_timestamp() "
            "WHERE id = $1 RETURNING *",
            task_id,
            error,
        )
        if row is None:
            raise NotFoundError(f"task {task_id} does not exist")
        return rows.task(row)

    async def retry_task(self, task_id: int) -> Task:
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchrow("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", task_id)
            if current is None:
                raise NotFoundError(f"task {task_id} does not exist")
            previous = TaskStatus(current["status"])
            if previous not in (TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED):
                raise InvalidTransitionError(
                    f"task {current['key']} is {previous.value}: only a failed, blocked or "
                    "cancelled task can be retried"
                )
            row = await conn.fetchrow(
                """
                UPDATE tasks
                SET status = 'pending', attempts_base = attempts, claimed_by = NULL,
                    updated_at = clock_timestamp()
                WHERE id = $1
                RETURNING *
                """,
                task_id,
            )
        return rows.task(row)

    async def set_task_model(self, task_id: int, model: str) -> Task:
        row = await self._pool.fetchrow(
            "UPDATE tasks SET model = $2, updated_at = clock_timestamp() WHERE id = $1 RETURNING *",
            task_id,
            model,
        )
        if row is None:
            raise NotFoundError(f"task {task_id} does not exist")
        return rows.task(row)


async def _lock_project(conn: Any, project_id: int) -> None:
    """Serialize dependency edits of one project, so two of them cannot close a cycle together."""
    await conn.execute("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", project_id)


_Change = tuple[int | None, str, int, Sequence[int], DependencyType, Sequence[int]]


async def _check_graph(conn: Any, project_id: int, change: _Change) -> None:
    """Refuse dependencies on unknown tasks, on itself, or that would close a cycle."""
    task_id, key, epic_id, depends_on, dependency_type, soft = change
    task_rows = await conn.fetch(
        "SELECT id, key, epic_id, depends_on, dependency_type, soft_depends_on"
        " FROM tasks WHERE project_id = $1",
        project_id,
    )
    epic_rows = await conn.fetch(
        "SELECT id, depends_on FROM epics WHERE project_id = $1", project_id
    )
    keys = {r["id"]: r["key"] for r in task_rows}
    if task_id is None and key in keys.values():
        raise AlreadyExistsError(f"project {project_id} already has a task {key!r}")
    wanted = set(depends_on) | set(soft)
    unknown = sorted(i for i in wanted if i not in keys)
    if unknown:
        raise NotFoundError(
            f"task {key}: project {project_id} has no task {', '.join(str(i) for i in unknown)}"
        )
    if task_id is not None and task_id in wanted:
        raise PlanError(f"task {key}", "depends_on", "a task cannot depend on itself")
    graph_tasks = []
    for r in task_rows:
        if r["id"] == task_id:
            continue
        graph_tasks.append(
            _graph_task(
                r["key"],
                r["epic_id"],
                r["depends_on"],
                r["dependency_type"],
                r["soft_depends_on"],
                keys,
            )
        )
    graph_tasks.append(_graph_task(key, epic_id, depends_on, dependency_type, soft, keys))
    graph_epics = [
        GraphEpic(key=str(r["id"]), depends_on=tuple(str(d) for d in r["depends_on"]))
        for r in epic_rows
    ]
    cycles = resolve(graph_tasks, graph_epics).circular_deps
    if cycles:
        shown = " -> ".join((*cycles[0], cycles[0][0]))
        raise PlanError(
            f"task {key}", "depends_on", f"the dependencies would form a cycle: {shown}"
        )


def _graph_task(
    key: str,
    epic_id: int,
    depends_on: Sequence[int],
    dependency_type: str,
    soft: Sequence[int],
    keys: dict[int, str],
) -> GraphTask:
    hard = [keys[i] for i in depends_on] if dependency_type == "hard" else []
    softs = [keys[i] for i in soft] + (
        [] if dependency_type == "hard" else [keys[i] for i in depends_on]
    )
    return GraphTask(
        key=key, epic=str(epic_id), depends_on=tuple(hard), soft_depends_on=tuple(softs)
    )
