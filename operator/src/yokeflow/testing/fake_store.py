"""An in-memory :class:`~yokeflow.ports.store.Store` for unit tests of services.

It follows the PostgreSQL store's rules — the state machine, claims only when hard and epic
dependencies are done (in priority, then plan order), the epic completed once by its last task,
refused cycles — with one lock instead of row locks. It is not a database: nothing survives the
process, and it has no views (progress and costs are computed on the fly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from yokeflow.core.graph import GraphEpic, GraphTask, graph_from_plan, resolve
from yokeflow.core.plan import Plan
from yokeflow.core.records import (
    DependencyType,
    Epic,
    EpicStatus,
    Project,
    ProjectPlan,
    Task,
    TaskChange,
    TaskStatus,
)
from yokeflow.core.status import (
    check_task_transition,
    parse_task_status,
)
from yokeflow.errors import AlreadyExistsError, InvalidTransitionError, NotFoundError, PlanError
from yokeflow.ports.store import Store
from yokeflow.testing.fake_activity import FakeActivity, timestamp

__all__ = ["FakeStore"]


class FakeStore(FakeActivity):
    """Projects, plans, tasks, sessions, batches, costs and expertise in dicts."""

    async def close(self) -> None:
        return None

    # -- projects and epics --------------------------------------------------------------------

    async def create_project(
        self,
        name: str,
        *,
        description: str = "",
        spec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Project:
        now = timestamp()
        project = Project(
            self._next("projects"), name, description, spec, dict(metadata or {}), now, now
        )
        self.projects[project.id] = project
        return project

    async def get_project(self, project_id: int) -> Project | None:
        return self.projects.get(project_id)

    async def get_project_by_name(self, name: str) -> Project | None:
        found = [p for p in self.projects.values() if p.name == name]
        return max(found, key=lambda p: p.id) if found else None

    async def list_projects(self) -> list[Project]:
        return sorted(self.projects.values(), key=lambda p: p.id)

    async def delete_project(self, project_id: int) -> None:
        self._project(project_id)
        del self.projects[project_id]
        for table in (self.epics, self.tasks, self.sessions, self.batches, self.costs):
            for key in [k for k, v in table.items() if v.project_id == project_id]:
                del table[key]
        gone = {k for k, v in self.expertise.items() if v.project_id == project_id}
        for key in gone:
            del self.expertise[key]
        for key in [k for k, v in self.expertise_updates.items() if v.expertise_id in gone]:
            del self.expertise_updates[key]
        for key in [k for k, v in self._records.items() if v.project_id == project_id]:
            del self._records[key]

    async def update_project_metadata(
        self, project_id: int, metadata: Mapping[str, Any]
    ) -> Project:
        project = self._project(project_id)
        updated = replace(
            project, metadata={**project.metadata, **metadata}, updated_at=timestamp()
        )
        self.projects[project_id] = updated
        return updated

    async def clear_plan(self, project_id: int) -> None:
        async with self._lock:
            for task_id in [t.id for t in self.tasks.values() if t.project_id == project_id]:
                del self.tasks[task_id]
            for epic_id in [e.id for e in self.epics.values() if e.project_id == project_id]:
                del self.epics[epic_id]

    async def create_plan(
        self,
        plan: Plan,
        *,
        spec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ProjectPlan:
        problems = graph_from_plan(plan).problems()
        if problems:
            raise PlanError(plan.name, "", "; ".join(problems))
        async with self._lock:
            project = await self.create_project(
                plan.name, description=plan.description, spec=spec, metadata=metadata
            )
            epic_ids: dict[str, int] = {}
            for position, e in enumerate(plan.epics):
                epic = Epic(
                    self._next("epics"), project.id, e.key, e.name, e.description, e.priority,
                    position, created_at=timestamp(),
                )  # fmt: skip
                self.epics[epic.id] = epic
                epic_ids[e.key] = epic.id
            for e in plan.epics:
                epic = self.epics[epic_ids[e.key]]
                self.epics[epic.id] = replace(
                    epic, depends_on=tuple(epic_ids[d] for d in e.depends_on)
                )
            task_ids: dict[str, int] = {}
            for position, (e, t) in enumerate(plan.tasks()):
                task = Task(
                    self._next("tasks"), project.id, epic_ids[e.key], t.key, t.title,
                    t.description, priority=t.priority, position=position,
                    estimate_minutes=t.estimate_minutes, task_type=t.type, created_at=timestamp(),
                    expects_changes=t.expects_changes, pinned_model=t.model,
                )  # fmt: skip
                self.tasks[task.id] = task
                task_ids[t.key] = task.id
            for _, t in plan.tasks():
                deps = t.dependencies()
                hard = tuple(task_ids[d.key] for d in deps if d.type == "hard")
                soft = tuple(task_ids[d.key] for d in deps if d.type == "soft")
                task = self.tasks[task_ids[t.key]]
                if hard or not soft:
                    self.tasks[task.id] = replace(task, depends_on=hard, soft_depends_on=soft)
                else:
                    self.tasks[task.id] = replace(task, depends_on=soft, dependency_type="soft")
        return ProjectPlan(
            project,
            tuple(await self.list_epics(project.id)),
            tuple(await self.list_tasks(project.id)),
        )

    async def create_epic(
        self,
        project_id: int,
        key: str,
        name: str,
        *,
        description: str = "",
        priority: int = 0,
        depends_on: Sequence[int] = (),
    ) -> Epic:
        self._project(project_id)
        if any(e.project_id == project_id and e.key == key for e in self.epics.values()):
            raise AlreadyExistsError(f"project {project_id} already has an epic {key!r}")
        self._check_epics(project_id, depends_on)
        position = sum(1 for e in self.epics.values() if e.project_id == project_id)
        epic = Epic(
            self._next("epics"), project_id, key, name, description, priority, position,
            tuple(depends_on), created_at=timestamp(),
        )  # fmt: skip
        self.epics[epic.id] = epic
        return epic

    def _check_epics(self, project_id: int, epic_ids: Sequence[int]) -> None:
        missing = [
            i for i in epic_ids if i not in self.epics or self.epics[i].project_id != project_id
        ]
        if missing:
            raise NotFoundError(f"project {project_id} has no epic {', '.join(map(str, missing))}")

    async def get_epic(self, epic_id: int) -> Epic | None:
        return self.epics.get(epic_id)

    async def list_epics(self, project_id: int) -> list[Epic]:
        found = [e for e in self.epics.values() if e.project_id == project_id]
        return sorted(found, key=lambda e: (e.position, e.id))

    async def set_epic_dependencies(self, epic_id: int, depends_on: Sequence[int]) -> Epic:
        epic = self.epics.get(epic_id)
        if epic is None:
            raise NotFoundError(f"epic {epic_id} does not exist")
        if epic_id in depends_on:
            raise PlanError(f"epic {epic.key}", "depends_on", "an epic cannot depend on itself")
        self._check_epics(epic.project_id, depends_on)
        self.epics[epic_id] = replace(epic, depends_on=tuple(depends_on))
        return self.epics[epic_id]

    # -- tasks ---------------------------------------------------------------------------------

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
        async with self._lock:
            epic = self.epics.get(epic_id)
            if epic is None or epic.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no epic {epic_id}")
            if epic.status == EpicStatus.DONE:
                raise InvalidTransitionError(
                    f"epic {epic_id} is done; add the task to an epic that is not finished"
                )
            if any(t.project_id == project_id and t.key == key for t in self.tasks.values()):
                raise AlreadyExistsError(f"project {project_id} already has a task {key!r}")
            task = Task(
                self._next("tasks"), project_id, epic_id, key, title, description,
                priority=priority,
                position=sum(1 for t in self.tasks.values() if t.project_id == project_id),
                estimate_minutes=estimate_minutes, task_type=task_type,
                depends_on=tuple(depends_on), dependency_type=dependency_type,
                soft_depends_on=tuple(soft_depends_on), created_at=timestamp(),
                pinned_model=pinned_model,
            )  # fmt: skip
            self._check_graph(task)
            self.tasks[task.id] = task
            return task

    async def get_task(self, task_id: int) -> Task | None:
        return self.tasks.get(task_id)

    async def get_task_by_key(self, project_id: int, key: str) -> Task | None:
        return next(
            (t for t in self.tasks.values() if t.project_id == project_id and t.key == key), None
        )

    async def list_tasks(
        self,
        project_id: int,
        *,
        status: TaskStatus | None = None,
        epic_id: int | None = None,
    ) -> list[Task]:
        found = [
            t
            for t in self.tasks.values()
            if t.project_id == project_id
            and (status is None or t.status == status)
            and (epic_id is None or t.epic_id == epic_id)
        ]
        return sorted(found, key=lambda t: (t.position, t.id))

    async def task_counts(self, project_id: int) -> dict[TaskStatus, int]:
        counts = dict.fromkeys(TaskStatus, 0)
        for t in self.tasks.values():
            if t.project_id == project_id:
                counts[t.status] += 1
        return counts

    async def get_task_dependencies(self, task_id: int) -> list[Task]:
        task = self.tasks.get(task_id)
        if task is None:
            return []
        ids = set(task.depends_on) | set(task.soft_depends_on)
        return sorted((self.tasks[i] for i in ids), key=lambda t: (t.position, t.id))

    async def set_task_dependencies(
        self,
        task_id: int,
        depends_on: Sequence[int],
        *,
        dependency_type: DependencyType = "hard",
        soft_depends_on: Sequence[int] = (),
    ) -> Task:
        async with self._lock:
            task = self._task(task_id)
            updated = replace(
                task,
                depends_on=tuple(depends_on),
                dependency_type=dependency_type,
                soft_depends_on=tuple(soft_depends_on),
                updated_at=timestamp(),
            )
            self._check_graph(updated)
            self.tasks[task_id] = updated
            return updated

    def _check_graph(self, changed: Task) -> None:
        peers = {t.id: t for t in self.tasks.values() if t.project_id == changed.project_id}
        wanted = set(changed.depends_on) | set(changed.soft_depends_on)
        unknown = sorted(i for i in wanted if i not in peers)
        if unknown:
            raise NotFoundError(
                f"task {changed.key}: project {changed.project_id} has no task "
                + ", ".join(map(str, unknown))
            )
        if changed.id in wanted:
            raise PlanError(f"task {changed.key}", "depends_on", "a task cannot depend on itself")
        peers[changed.id] = changed
        keys = {i: t.key for i, t in peers.items()}
        graph = resolve(
            [
                GraphTask(
                    t.key,
                    str(t.epic_id),
                    depends_on=tuple(keys[i] for i in t.hard_dependencies),
                    soft_depends_on=tuple(keys[i] for i in t.soft_dependencies),
                )
                for t in peers.values()
            ],
            [
                GraphEpic(str(e.id), depends_on=tuple(map(str, e.depends_on)))
                for e in self.epics.values()
                if e.project_id == changed.project_id
            ],
        )
        if graph.circular_deps:
            cycle = graph.circular_deps[0]
            shown = " -> ".join((*cycle, cycle[0]))
            raise PlanError(
                f"task {changed.key}", "depends_on", f"the dependencies would form a cycle: {shown}"
            )

    async def get_tasks_with_dependencies(self, project_id: int) -> list[Task]:
        return await self.list_tasks(project_id)

    def _waiting_for(self, task: Task) -> list[Task]:
        epic = self.epics[task.epic_id]
        waits = [self.tasks[i] for i in task.hard_dependencies]
        waits += [t for t in self.tasks.values() if t.epic_id in epic.depends_on]
        return [t for t in waits if t.status != TaskStatus.DONE]

    async def claim_next_task(self, project_id: int, *, worker: str | None = None) -> Task | None:
        async with self._lock:
            return self._claim(project_id, worker)

    async def claim_tasks(
        self, project_id: int, count: int, *, worker: str | None = None
    ) -> list[Task]:
        async with self._lock:
            found: list[Task] = []
            while len(found) < count:
                task = self._claim(project_id, worker)
                if task is None:
                    break
                found.append(task)
            return found

    def _claim(self, project_id: int, worker: str | None) -> Task | None:
        for task in sorted(
            (
                t
                for t in self.tasks.values()
                if t.project_id == project_id and t.status == TaskStatus.PENDING
            ),
            key=lambda t: (t.priority, t.position, t.id),
        ):
            if not self._waiting_for(task):
                now = timestamp()
                claimed = replace(
                    task,
                    status=TaskStatus.RUNNING,
                    attempts=task.attempts + 1,
                    claimed_by=worker,
                    last_error=None,
                    started_at=now,
                    updated_at=now,
                )
                self.tasks[task.id] = claimed
                self._start_epic(task.epic_id)
                return claimed
        return None

    def _start_epic(self, epic_id: int) -> None:
        epic = self.epics[epic_id]
        if epic.status == EpicStatus.PENDING:
            self.epics[epic_id] = replace(epic, status=EpicStatus.RUNNING)

    async def update_task_status(
        self,
        task_id: int,
        status: TaskStatus | str,
        *,
        error: str | None = None,
        expected: TaskStatus | None = None,
    ) -> TaskChange:
        new = status if isinstance(status, TaskStatus) else parse_task_status(status)
        async with self._lock:
            task = self._task(task_id)
            name = f"{task.key} ({task_id})"
            if expected is not None and task.status != expected:
                raise InvalidTransitionError(
                    f"task {name} is {task.status.value}, not {expected.value}"
                )
            check_task_transition(task.status, new, name)
            if new == TaskStatus.RUNNING:
                waiting = self._waiting_for(task)
                if waiting:
                    keys = ", ".join(t.key for t in waiting[:5])
                    raise InvalidTransitionError(
                        f"task {name} cannot start before its dependencies are done ({keys})"
                    )
            now = timestamp()
            updated = replace(
                task,
                status=new,
                last_error=error
                if new in (TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED)
                else None
                if new in (TaskStatus.RUNNING, TaskStatus.DONE)
                else task.last_error,
                attempts=task.attempts + (1 if new == TaskStatus.RUNNING else 0),
                started_at=now if new == TaskStatus.RUNNING else task.started_at,
                completed_at=now if new == TaskStatus.DONE else task.completed_at,
                claimed_by=None if new == TaskStatus.PENDING else task.claimed_by,
                updated_at=now,
            )
            self.tasks[task_id] = updated
            completed = False
            if new == TaskStatus.RUNNING:
                self._start_epic(task.epic_id)
            elif new == TaskStatus.DONE:
                epic = self.epics[task.epic_id]
                siblings = (t for t in self.tasks.values() if t.epic_id == epic.id)
                if epic.status != EpicStatus.DONE and all(
                    t.status == TaskStatus.DONE for t in siblings
                ):
                    self.epics[epic.id] = replace(epic, status=EpicStatus.DONE, completed_at=now)
                    completed = True
            return TaskChange(updated, task.status, completed)

    async def complete_task(self, task_id: int) -> TaskChange:
        return await self.update_task_status(task_id, TaskStatus.DONE)

    async def complete_and_claim(
        self, task_id: int, *, worker: str | None = None
    ) -> tuple[TaskChange, Task | None]:
        change = await self.update_task_status(task_id, TaskStatus.DONE)
        return change, await self.claim_next_task(change.task.project_id, worker=worker)

    async def set_task_model(self, task_id: int, model: str) -> Task:
        self.tasks[task_id] = replace(self._task(task_id), model=model, updated_at=timestamp())
        return self.tasks[task_id]

    async def note_task_error(self, task_id: int, error: str) -> Task:
        self.tasks[task_id] = replace(self._task(task_id), last_error=error, updated_at=timestamp())
        return self.tasks[task_id]

    async def retry_task(self, task_id: int) -> Task:
        async with self._lock:
            task = self._task(task_id)
            if task.status not in (TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED):
                raise InvalidTransitionError(
                    f"task {task.key} is {task.status.value}: only a failed, blocked or "
                    "cancelled task can be retried"
                )
            self.tasks[task_id] = replace(
                task,
                status=TaskStatus.PENDING,
                attempts_base=task.attempts,
                claimed_by=None,
                updated_at=timestamp(),
            )
            return self.tasks[task_id]


def _implements_the_port(store: FakeStore) -> Store:
    return store  # mypy checks here that FakeStore satisfies the Store protocol
