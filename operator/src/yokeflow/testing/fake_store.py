"""An in-memory :class:`~yokeflow.ports.store.Store` for unit tests of services.

It follows the PostgreSQL store's rules — the state machine, claims only when hard and epic
dependencies are done (in priority, then plan order), the epic completed once by its last task,
refused cycles — with one lock instead of row locks. It is not a database: nothing survives the
process, and it has no views (progress and costs are computed on the fly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from yokeflow.core.graph import GraphEpic, GraphTask, graph_from_plan, resolve
from yokeflow.core.plan import Plan
from yokeflow.core.records import (
    AgentCost,
    BatchStatus,
    CostSummary,
    DependencyType,
    Epic,
    EpicStatus,
    ExpertiseFile,
    ExpertiseUpdate,
    ParallelBatch,
    ParallelProgress,
    Project,
    ProjectPlan,
    Session,
    SessionStatus,
    Task,
    TaskChange,
    TaskStatus,
    Test,
    TestStatus,
)
from yokeflow.core.status import (
    check_batch_transition,
    check_task_transition,
    parse_batch_status,
    parse_task_status,
)
from yokeflow.errors import InvalidTransitionError, NotFoundError, PlanError
from yokeflow.ports.store import Store
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger

__all__ = ["FakeStore"]


def _now() -> datetime:
    return datetime.now(UTC)


class FakeStore(InMemoryWorktreeLedger):
    """Projects, plans, tasks, sessions, batches, costs and expertise in dicts."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = asyncio.Lock()
        self._ids: dict[str, int] = {}
        self.projects: dict[int, Project] = {}
        self.epics: dict[int, Epic] = {}
        self.tasks: dict[int, Task] = {}
        self.tests: dict[int, Test] = {}
        self.sessions: dict[int, Session] = {}
        self.batches: dict[int, ParallelBatch] = {}
        self.costs: dict[int, AgentCost] = {}
        self.expertise: dict[int, ExpertiseFile] = {}
        self.expertise_updates: dict[int, ExpertiseUpdate] = {}

    def _next(self, table: str) -> int:
        self._ids[table] = self._ids.get(table, 0) + 1
        return self._ids[table]

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
        now = _now()
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

    async def update_project_metadata(
        self, project_id: int, metadata: Mapping[str, Any]
    ) -> Project:
        project = self._project(project_id)
        updated = replace(project, metadata={**project.metadata, **metadata}, updated_at=_now())
        self.projects[project_id] = updated
        return updated

    def _project(self, project_id: int) -> Project:
        if project_id not in self.projects:
            raise NotFoundError(f"project {project_id} does not exist")
        return self.projects[project_id]

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
                    position, created_at=_now(),
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
                    estimate_minutes=t.estimate_minutes, task_type=t.type, created_at=_now(),
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
            raise PlanError(f"epic {key}", "key", "is already used in this project")
        self._check_epics(project_id, depends_on)
        position = sum(1 for e in self.epics.values() if e.project_id == project_id)
        epic = Epic(
            self._next("epics"), project_id, key, name, description, priority, position,
            tuple(depends_on), created_at=_now(),
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
                raise PlanError(f"task {key}", "key", "is already used in this project")
            task = Task(
                self._next("tasks"), project_id, epic_id, key, title, description,
                priority=priority,
                position=sum(1 for t in self.tasks.values() if t.project_id == project_id),
                estimate_minutes=estimate_minutes, task_type=task_type,
                depends_on=tuple(depends_on), dependency_type=dependency_type,
                soft_depends_on=tuple(soft_depends_on), created_at=_now(),
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
                updated_at=_now(),
            )
            self._check_graph(updated)
            self.tasks[task_id] = updated
            return updated

    def _task(self, task_id: int) -> Task:
        if task_id not in self.tasks:
            raise NotFoundError(f"task {task_id} does not exist")
        return self.tasks[task_id]

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
            for task in sorted(
                (
                    t
                    for t in self.tasks.values()
                    if t.project_id == project_id and t.status == TaskStatus.PENDING
                ),
                key=lambda t: (t.priority, t.position, t.id),
            ):
                if not self._waiting_for(task):
                    now = _now()
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
            now = _now()
            updated = replace(
                task,
                status=new,
                last_error=error if new == TaskStatus.FAILED else task.last_error,
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

    async def set_task_model(self, task_id: int, model: str) -> Task:
        self.tasks[task_id] = replace(self._task(task_id), model=model, updated_at=_now())
        return self.tasks[task_id]

    # -- tests and sessions --------------------------------------------------------------------

    async def create_test(
        self,
        task_id: int,
        description: str,
        *,
        category: str = "functional",
        steps: Sequence[str] = (),
    ) -> Test:
        task = self._task(task_id)
        test = Test(
            self._next("tests"), task_id, task.project_id, description, category, tuple(steps),
            created_at=_now(),
        )  # fmt: skip
        self.tests[test.id] = test
        return test

    async def list_tests(self, task_id: int) -> list[Test]:
        return sorted((t for t in self.tests.values() if t.task_id == task_id), key=lambda t: t.id)

    async def update_test_status(
        self, test_id: int, status: TestStatus, *, result: str | None = None
    ) -> Test:
        if test_id not in self.tests:
            raise NotFoundError(f"test {test_id} does not exist")
        test = self.tests[test_id]
        self.tests[test_id] = replace(
            test,
            status=status,
            result=result if result is not None else test.result,
            verified_at=None if status == TestStatus.PENDING else _now(),
        )
        return self.tests[test_id]

    async def start_session(
        self,
        project_id: int,
        *,
        task_id: int | None = None,
        kind: str = "task",
        model: str | None = None,
        log_path: str | None = None,
    ) -> Session:
        self._project(project_id)
        session = Session(
            self._next("sessions"), project_id, task_id, kind, model=model, log_path=log_path,
            started_at=_now(),
        )  # fmt: skip
        self.sessions[session.id] = session
        return session

    async def end_session(
        self,
        session_id: int,
        status: SessionStatus,
        *,
        summary: str | None = None,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> Session:
        if session_id not in self.sessions:
            raise NotFoundError(f"session {session_id} does not exist")
        s = self.sessions[session_id]
        self.sessions[session_id] = replace(
            s,
            status=status,
            summary=summary if summary is not None else s.summary,
            error=error if error is not None else s.error,
            metrics={**s.metrics, **(metrics or {})},
            ended_at=_now(),
        )
        return self.sessions[session_id]

    async def get_session(self, session_id: int) -> Session | None:
        return self.sessions.get(session_id)

    async def list_sessions(self, project_id: int, *, task_id: int | None = None) -> list[Session]:
        return [
            s
            for s in sorted(self.sessions.values(), key=lambda s: s.id)
            if s.project_id == project_id and (task_id is None or s.task_id == task_id)
        ]

    # -- batches -------------------------------------------------------------------------------

    async def create_parallel_batch(
        self, project_id: int, batch_number: int, task_ids: Sequence[int]
    ) -> ParallelBatch:
        if await self.get_parallel_batch(project_id, batch_number) is not None:
            raise PlanError(f"batch {batch_number}", "", "already exists in this project")
        batch = ParallelBatch(
            self._next("batches"), project_id, batch_number, BatchStatus.PENDING, tuple(task_ids),
            created_at=_now(),
        )  # fmt: skip
        self.batches[batch.id] = batch
        return batch

    async def get_parallel_batch(self, project_id: int, batch_number: int) -> ParallelBatch | None:
        return next(
            (
                b
                for b in self.batches.values()
                if b.project_id == project_id and b.batch_number == batch_number
            ),
            None,
        )

    async def list_parallel_batches(self, project_id: int) -> list[ParallelBatch]:
        found = [b for b in self.batches.values() if b.project_id == project_id]
        return sorted(found, key=lambda b: b.batch_number)

    async def update_batch_status(self, batch_id: int, status: BatchStatus | str) -> ParallelBatch:
        new = status if isinstance(status, BatchStatus) else parse_batch_status(status)
        async with self._lock:
            if batch_id not in self.batches:
                raise NotFoundError(f"batch {batch_id} does not exist")
            batch = self.batches[batch_id]
            check_batch_transition(batch.status, new, f"{batch.batch_number} ({batch_id})")
            now = _now()
            self.batches[batch_id] = replace(
                batch,
                status=new,
                started_at=batch.started_at or (now if new == BatchStatus.RUNNING else None),
                completed_at=now
                if new in {BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.CANCELLED}
                else batch.completed_at,
            )
            return self.batches[batch_id]

    async def parallel_progress(self, project_id: int) -> list[ParallelProgress]:
        out = []
        for b in await self.list_parallel_batches(project_id):
            statuses = [self.tasks[i].status for i in b.task_ids if i in self.tasks]
            out.append(
                ParallelProgress(
                    b.id,
                    b.project_id,
                    b.batch_number,
                    b.status,
                    total=len(b.task_ids),
                    done=statuses.count(TaskStatus.DONE),
                    running=statuses.count(TaskStatus.RUNNING),
                    failed=statuses.count(TaskStatus.FAILED),
                    pending=statuses.count(TaskStatus.PENDING) + statuses.count(TaskStatus.BLOCKED),
                )
            )
        return out

    # -- costs ---------------------------------------------------------------------------------

    async def record_agent_cost(
        self,
        project_id: int,
        *,
        model: str,
        cost_usd: Decimal | float,
        session_id: int | None = None,
        task_id: int | None = None,
        operation: str = "task",
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
    ) -> AgentCost:
        self._project(project_id)
        cost = AgentCost(
            self._next("costs"), project_id, session_id, task_id, model, operation, input_tokens,
            output_tokens, cache_read_tokens, cache_creation_tokens,
            Decimal(str(cost_usd)).quantize(Decimal("0.000001")), _now(),
        )  # fmt: skip
        self.costs[cost.id] = cost
        return cost

    async def list_agent_costs(self, project_id: int) -> list[AgentCost]:
        return [
            c for c in sorted(self.costs.values(), key=lambda c: c.id) if c.project_id == project_id
        ]

    def _sum(self, project_id: int, by_operation: bool) -> list[CostSummary]:
        groups: dict[tuple[str, str | None], list[AgentCost]] = {}
        for c in self.costs.values():
            if c.project_id == project_id:
                groups.setdefault((c.model, c.operation if by_operation else None), []).append(c)
        return [
            CostSummary(
                model,
                operation,
                calls=len(cs),
                input_tokens=sum(c.input_tokens for c in cs),
                output_tokens=sum(c.output_tokens for c in cs),
                cache_read_tokens=sum(c.cache_read_tokens for c in cs),
                cache_creation_tokens=sum(c.cache_creation_tokens for c in cs),
                cost_usd=sum((c.cost_usd for c in cs), Decimal(0)),
            )
            for (model, operation), cs in sorted(
                groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ]

    async def get_project_costs(self, project_id: int) -> list[CostSummary]:
        return self._sum(project_id, by_operation=True)

    async def get_cost_by_model(self, project_id: int) -> list[CostSummary]:
        return self._sum(project_id, by_operation=False)

    async def get_project_cost_total(self, project_id: int) -> Decimal:
        return sum(
            (c.cost_usd for c in self.costs.values() if c.project_id == project_id), Decimal(0)
        )

    # -- expertise -----------------------------------------------------------------------------

    async def get_expertise(self, project_id: int, domain: str) -> ExpertiseFile | None:
        return next(
            (
                e
                for e in self.expertise.values()
                if e.project_id == project_id and e.domain == domain
            ),
            None,
        )

    async def save_expertise(
        self,
        project_id: int,
        domain: str,
        content: Mapping[str, Any],
        *,
        line_count: int,
        validated: bool = False,
    ) -> ExpertiseFile:
        now = _now()
        current = await self.get_expertise(project_id, domain)
        if current is None:
            saved = ExpertiseFile(
                self._next("expertise"), project_id, domain, dict(content), 1, line_count,
                now if validated else None, now, now,
            )  # fmt: skip
        else:
            saved = replace(
                current,
                content=dict(content),
                version=current.version + 1,
                line_count=line_count,
                validated_at=now if validated else current.validated_at,
                updated_at=now,
            )
        self.expertise[saved.id] = saved
        return saved

    async def list_expertise_domains(self, project_id: int) -> list[str]:
        return sorted(e.domain for e in self.expertise.values() if e.project_id == project_id)

    async def record_expertise_update(
        self,
        expertise_id: int,
        change_type: str,
        summary: str,
        *,
        session_id: int | None = None,
        diff: str | None = None,
    ) -> ExpertiseUpdate:
        if expertise_id not in self.expertise:
            raise NotFoundError(f"expertise file {expertise_id} does not exist")
        update = ExpertiseUpdate(
            self._next("expertise_updates"), expertise_id, session_id, change_type, summary, diff,
            self.expertise[expertise_id].version, _now(),
        )  # fmt: skip
        self.expertise_updates[update.id] = update
        return update

    async def list_expertise_updates(self, expertise_id: int) -> list[ExpertiseUpdate]:
        return [
            u
            for u in sorted(self.expertise_updates.values(), key=lambda u: u.id)
            if u.expertise_id == expertise_id
        ]


def _implements_the_port(store: FakeStore) -> Store:
    return store  # mypy checks here that FakeStore satisfies the Store protocol
