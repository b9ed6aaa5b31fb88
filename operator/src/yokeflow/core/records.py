"""Rows of the state database as frozen records, and the statuses they can be in.

The PostgreSQL adapter turns rows into these at its edge; services and the in-memory fake store
speak only these. Nothing here does I/O. Worktree rows are :class:`yokeflow.core.worktree.WorktreeRecord`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "AgentCost",
    "BatchStatus",
    "CostSummary",
    "DependencyType",
    "Epic",
    "EpicStatus",
    "ExpertiseFile",
    "ExpertiseUpdate",
    "ParallelBatch",
    "ParallelProgress",
    "Project",
    "ProjectPlan",
    "Session",
    "SessionStatus",
    "Task",
    "TaskChange",
    "TaskStatus",
    "Test",
    "TestStatus",
]

DependencyType = Literal["hard", "soft"]


class TaskStatus(StrEnum):
    """Where a task stands; :mod:`yokeflow.core.status` says which changes are allowed."""

    PENDING = "pending"
    """Not started; claimable once its hard dependencies (and its epic's dependencies) are done."""
    RUNNING = "running"
    """Claimed by one worker, whose agent works on it."""
    DONE = "done"
    """Finished successfully. Terminal: a done task never runs again."""
    FAILED = "failed"
    """The last attempt failed; may be put back to pending for a retry."""
    BLOCKED = "blocked"
    """Held back (a dependency failed, or a person paused it); back to pending to release it."""
    CANCELLED = "cancelled"
    """The run was cancelled before the task finished."""


class EpicStatus(StrEnum):
    """Where an epic stands; derived from its tasks inside the transactions that change them."""

    PENDING = "pending"
    """None of its tasks has been claimed."""
    RUNNING = "running"
    """At least one of its tasks has been claimed."""
    DONE = "done"
    """Every task is done; set exactly once, in the transaction that finished the last task."""


class BatchStatus(StrEnum):
    """Where a parallel batch (a set of tasks launched together) stands."""

    PENDING = "pending"
    RUNNING = "running"
    MERGING = "merging"
    """The tasks finished; their branches are being merged."""
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SessionStatus(StrEnum):
    """Where one agent session stands."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TestStatus(StrEnum):
    """The result of a task's verification test."""

    __test__ = False  # not a pytest test class, despite the name

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Project:
    """A row of ``projects``: one application being built."""

    id: int
    name: str
    description: str = ""
    spec: str | None = None
    """The application spec text, when the project was planned from one."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Free-form settings of the run (repository, branch…), kept as JSON."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Epic:
    """A row of ``epics``: a group of tasks, and the epics all of them wait for."""

    id: int
    project_id: int
    key: str
    name: str
    description: str = ""
    priority: int = 0
    position: int = 0
    """Its place in the plan file (ties are broken by it)."""
    depends_on: tuple[int, ...] = ()
    """Epic ids: every task here waits for every task of those epics."""
    status: EpicStatus = EpicStatus.PENDING
    created_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A row of ``tasks``: one unit of work, run by one agent.

    ``depends_on`` holds the task ids of type ``dependency_type`` (the spec's columns);
    ``soft_depends_on`` holds soft dependencies of a task whose other dependencies are hard.
    """

    id: int
    project_id: int
    epic_id: int
    key: str
    title: str
    description: str = ""
    status: TaskStatus = TaskStatus.PENDING
    priority: int = 0
    position: int = 0
    estimate_minutes: float = 1.0
    task_type: str | None = None
    model: str | None = None
    """The model chosen for its last attempt."""
    pinned_model: str | None = None
    """The model the plan pins on it (a tier name or a model id): every attempt of its own
    sessions runs on it. ``None``: the cost-based choice."""
    attempts: int = 0
    """How many times it has been claimed."""
    attempts_base: int = 0
    """Attempts before it was last given new ones (``yokeflow retry``): the attempts counted
    against the limit are ``attempts - attempts_base``."""
    expects_changes: bool = True
    """False: a session of it that changes no file is not a failed attempt ("no changes")."""
    depends_on: tuple[int, ...] = ()
    dependency_type: DependencyType = "hard"
    soft_depends_on: tuple[int, ...] = ()
    claimed_by: str | None = None
    """The worker that claimed it last."""
    last_error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def hard_dependencies(self) -> tuple[int, ...]:
        """Task ids that must be done before this task may be claimed."""
        return self.depends_on if self.dependency_type == "hard" else ()

    @property
    def soft_dependencies(self) -> tuple[int, ...]:
        """Task ids that only order this task, never hold it back."""
        if self.dependency_type == "soft":
            return self.depends_on + self.soft_depends_on
        return self.soft_depends_on


@dataclass(frozen=True, slots=True)
class TaskChange:
    """The outcome of a task status change: the task after it, and whether it completed its epic."""

    task: Task
    previous: TaskStatus
    epic_completed: bool = False
    """True for exactly one change per epic: the one that finished its last unfinished task."""


@dataclass(frozen=True, slots=True)
class ProjectPlan:
    """A plan as stored: the project, its epics and tasks, and the plan's keys mapped to ids."""

    project: Project
    epics: tuple[Epic, ...]
    tasks: tuple[Task, ...]

    @property
    def epic_ids(self) -> dict[str, int]:
        return {e.key: e.id for e in self.epics}

    @property
    def task_ids(self) -> dict[str, int]:
        return {t.key: t.id for t in self.tasks}


@dataclass(frozen=True, slots=True)
class Test:
    """A row of ``tests``: one verification step of a task."""

    __test__ = False  # not a pytest test class, despite the name

    id: int
    task_id: int
    project_id: int
    description: str
    category: str = "functional"
    steps: tuple[str, ...] = ()
    status: TestStatus = TestStatus.PENDING
    result: str | None = None
    created_at: datetime | None = None
    verified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A row of ``sessions``: one agent session (planning, a task, a merge resolution…)."""

    id: int
    project_id: int
    task_id: int | None
    kind: str
    """``planning``, ``task``, ``merge`` or ``resolution``."""
    status: SessionStatus = SessionStatus.RUNNING
    model: str | None = None
    log_path: str | None = None
    summary: str | None = None
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ParallelBatch:
    """A row of ``parallel_batches``: tasks launched together in one scheduling round."""

    id: int
    project_id: int
    batch_number: int
    status: BatchStatus
    task_ids: tuple[int, ...]
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ParallelProgress:
    """A row of the ``v_parallel_progress`` view: a batch with its tasks counted by status."""

    batch_id: int
    project_id: int
    batch_number: int
    status: BatchStatus
    total: int
    done: int
    running: int
    failed: int
    pending: int


@dataclass(frozen=True, slots=True)
class AgentCost:
    """A row of ``agent_costs``: the tokens and dollars of one agent call or session."""

    id: int
    project_id: int
    session_id: int | None
    task_id: int | None
    model: str
    operation: str = "task"
    """What the spend was for: ``task``, ``planning``, ``merge``, ``learning``…"""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CostSummary:
    """Spend summed over a group (a project, a model, a model and operation)."""

    model: str | None
    operation: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True, slots=True)
class ExpertiseFile:
    """A row of ``expertise_files``: what the agents have learned about one domain of a project."""

    id: int
    project_id: int
    domain: str
    content: dict[str, Any]
    version: int
    line_count: int
    validated_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExpertiseUpdate:
    """A row of ``expertise_updates``: one change to an expertise file, with its provenance."""

    id: int
    expertise_id: int
    session_id: int | None
    change_type: str
    """``learn``, ``prune``, ``validate``, ``improve`` or ``edit``."""
    summary: str
    diff: str | None = None
    version: int | None = None
    """The expertise file's version after the change."""
    created_at: datetime | None = None
