"""An in-memory :class:`~yokeflow.ports.plan_edits.PlanEdits` over the :class:`FakeStore`.

It follows the PostgreSQL adapter's rules — all-or-none task batches, refused cycles named,
parking a running task back to pending, completion refused while a task is unfinished — by
checking everything before the first change. It is for unit tests of the MCP tools and the
services; the transactions themselves are tested on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from yokeflow.core.graph import GraphEpic, GraphTask, resolve
from yokeflow.core.records import Project, Task, TaskStatus, Test
from yokeflow.errors import InvalidTransitionError, NotFoundError, PlanError
from yokeflow.ports.plan_edits import NewTask, Parking
from yokeflow.testing.fake_store import FakeStore

__all__ = ["FakePlanEdits"]


class FakePlanEdits:
    """Plan edits on a :class:`FakeStore`'s dictionaries."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get_test(self, test_id: int) -> Test | None:
        return self._store.tests.get(test_id)

    async def add_tasks(
        self, project_id: int, epic_id: int, tasks: Sequence[NewTask]
    ) -> list[Task]:
        epic = await self._store.get_epic(epic_id)
        if epic is None or epic.project_id != project_id:
            raise NotFoundError(f"project {project_id} has no epic {epic_id}")
        if epic.status.value == "done":
            raise InvalidTransitionError(f"epic {epic.key} is done")
        existing = await self._store.list_tasks(project_id)
        keys = [t.key for t in tasks]
        taken = sorted(
            (set(keys) & {t.key for t in existing}) | {k for k in keys if keys.count(k) > 1}
        )
        if taken:
            raise PlanError(
                f"epic {epic.key}", "tasks", f"task key already used: {', '.join(taken)}"
            )
        known = {t.key for t in existing} | set(keys)
        unknown = sorted({d for t in tasks for d in t.depends_on} - known)
        if unknown:
            raise NotFoundError(f"project {project_id} has no task {', '.join(unknown)}")
        by_id = {t.id: t.key for t in existing}
        planned = [
            GraphTask(
                t.key,
                str(t.epic_id),
                depends_on=tuple(by_id[i] for i in t.hard_dependencies),
                soft_depends_on=tuple(by_id[i] for i in t.soft_dependencies),
            )
            for t in existing
        ]
        planned += [
            GraphTask(
                t.key,
                str(epic_id),
                depends_on=t.depends_on if t.dependency_type == "hard" else (),
                soft_depends_on=t.depends_on if t.dependency_type == "soft" else (),
            )
            for t in tasks
        ]
        await self._refuse_cycles(project_id, planned, f"epic {epic.key}")
        created = [
            await self._store.create_task(
                project_id,
                epic_id,
                t.key,
                t.title,
                description=t.description,
                priority=t.priority,
                estimate_minutes=t.estimate_minutes,
                task_type=t.task_type,
                dependency_type=t.dependency_type,
                pinned_model=t.pinned_model,
            )
            for t in tasks
        ]
        ids = {t.key: t.id for t in [*existing, *created]}
        return [
            await self._store.set_task_dependencies(
                task.id,
                [ids[d] for d in new.depends_on],
                dependency_type=new.dependency_type,
            )
            for task, new in zip(created, tasks, strict=True)
        ]

    async def declare_dependency(self, task_id: int, depends_on: int, *, reason: str) -> Parking:
        task = await self._store.get_task(task_id)
        if task is None:
            raise NotFoundError(f"task {task_id} does not exist")
        if task.status not in (TaskStatus.RUNNING, TaskStatus.PENDING):
            raise InvalidTransitionError(
                f"task {task.key} is {task.status.value}; only a running or pending task can "
                "declare a dependency"
            )
        needed = await self._store.get_task(depends_on)
        if needed is None or needed.project_id != task.project_id:
            raise NotFoundError(f"project {task.project_id} has no task {depends_on}")
        if depends_on == task_id:
            raise PlanError(f"task {task.key}", "depends_on", "a task cannot depend on itself")
        if needed.status == TaskStatus.DONE:
            return Parking(task=task, previous=task.status, parked=False)
        hard = [
            *task.hard_dependencies,
            *([] if depends_on in task.hard_dependencies else [depends_on]),
        ]
        soft = [i for i in task.soft_dependencies if i != depends_on]
        # set_task_dependencies refuses a cycle (naming it) before anything changes.
        await self._store.set_task_dependencies(
            task_id, hard, dependency_type="hard", soft_depends_on=soft
        )
        if task.status == TaskStatus.RUNNING:
            await self._store.update_task_status(task_id, TaskStatus.PENDING)
        parked = self._store.tasks[task_id]
        self._store.tasks[task_id] = replace(
            parked, last_error=f"waiting for {needed.key}: {reason}"
        )
        return Parking(task=self._store.tasks[task_id], previous=task.status, parked=True)

    async def complete_project(self, project_id: int, summary: str) -> Project:
        project = await self._store.get_project(project_id)
        if project is None:
            raise NotFoundError(f"project {project_id} does not exist")
        unfinished = [
            t for t in await self._store.list_tasks(project_id) if t.status != TaskStatus.DONE
        ]
        if unfinished:
            raise InvalidTransitionError(
                f"project {project.name} cannot be marked complete: "
                f"{len(unfinished)} task(s) are not done"
            )
        if project.metadata.get("completed"):
            return project
        return await self._store.update_project_metadata(
            project_id,
            {
                "completed": True,
                "completed_at": datetime.now(UTC).isoformat(),
                "completion_summary": summary,
            },
        )

    async def _refuse_cycles(
        self, project_id: int, planned: Sequence[GraphTask], subject: str
    ) -> None:
        epics = [
            GraphEpic(str(e.id), depends_on=tuple(map(str, e.depends_on)))
            for e in await self._store.list_epics(project_id)
        ]
        cycles = resolve(planned, epics).circular_deps
        if cycles:
            shown = " -> ".join((*cycles[0], cycles[0][0]))
            raise PlanError(subject, "depends_on", f"the dependencies would form a cycle: {shown}")
