"""The run-time half of the in-memory store: sessions, tests, batches, costs and expertise.

:class:`~yokeflow.testing.fake_store.FakeStore` adds projects, epics and tasks on top; this class
holds every table and the id counters, so both halves share them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from yokeflow.core.records import (
    AgentCost,
    BatchStatus,
    CostSummary,
    Epic,
    ExpertiseFile,
    ExpertiseUpdate,
    ParallelBatch,
    ParallelProgress,
    Project,
    Session,
    SessionStatus,
    Task,
    TaskStatus,
    Test,
    TestStatus,
)
from yokeflow.core.status import check_batch_transition, parse_batch_status
from yokeflow.errors import AlreadyExistsError, NotFoundError
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger

__all__ = ["FakeActivity", "timestamp"]


def timestamp() -> datetime:
    """The time stamps of the fake's rows."""
    return datetime.now(UTC)


class FakeActivity(InMemoryWorktreeLedger):
    """Every table of the fake store, and the operations on sessions, batches, costs, expertise."""

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

    def _project(self, project_id: int) -> Project:
        if project_id not in self.projects:
            raise NotFoundError(f"project {project_id} does not exist")
        return self.projects[project_id]

    def _task(self, task_id: int) -> Task:
        if task_id not in self.tasks:
            raise NotFoundError(f"task {task_id} does not exist")
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
            created_at=timestamp(),
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
            verified_at=None if status == TestStatus.PENDING else timestamp(),
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
            started_at=timestamp(),
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
            ended_at=timestamp(),
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
            raise AlreadyExistsError(f"project {project_id} already has a batch {batch_number}")
        batch = ParallelBatch(
            self._next("batches"), project_id, batch_number, BatchStatus.PENDING, tuple(task_ids),
            created_at=timestamp(),
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
            now = timestamp()
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
        if session_id is not None:  # recorded once per session, as the store's unique index says
            for stood in self.costs.values():
                if stood.session_id == session_id:
                    return stood
        cost = AgentCost(
            self._next("costs"), project_id, session_id, task_id, model, operation, input_tokens,
            output_tokens, cache_read_tokens, cache_creation_tokens,
            Decimal(str(cost_usd)).quantize(Decimal("0.000001")), timestamp(),
        )  # fmt: skip
        self.costs[cost.id] = cost
        return cost

    async def get_cost_by_task(self, project_id: int) -> dict[int, Decimal]:
        spent: dict[int, Decimal] = {}
        for cost in self.costs.values():
            if cost.project_id == project_id and cost.task_id is not None:
                spent[cost.task_id] = spent.get(cost.task_id, Decimal(0)) + cost.cost_usd
        return spent

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
        now = timestamp()
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
            self.expertise[expertise_id].version, timestamp(),
        )  # fmt: skip
        self.expertise_updates[update.id] = update
        return update

    async def list_expertise_updates(self, expertise_id: int) -> list[ExpertiseUpdate]:
        return [
            u
            for u in sorted(self.expertise_updates.values(), key=lambda u: u.id)
            if u.expertise_id == expertise_id
        ]
