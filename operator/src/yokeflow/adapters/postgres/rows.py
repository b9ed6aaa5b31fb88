"""Rows to records: the one place where database rows become :mod:`yokeflow.core.records`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from yokeflow.core.records import (
    AgentCost,
    BatchStatus,
    CostSummary,
    Epic,
    EpicStatus,
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
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus

__all__ = [
    "agent_cost",
    "cost_summary",
    "epic",
    "expertise_file",
    "expertise_update",
    "parallel_batch",
    "parallel_progress",
    "project",
    "session",
    "task",
    "test",
    "worktree",
]

Row = Mapping[str, Any]


def project(row: Row) -> Project:
    return Project(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        spec=row["spec"],
        metadata=dict(row["metadata"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def epic(row: Row) -> Epic:
    return Epic(
        id=row["id"],
        project_id=row["project_id"],
        key=row["key"],
        name=row["name"],
        description=row["description"],
        priority=row["priority"],
        position=row["position"],
        depends_on=tuple(row["depends_on"]),
        status=EpicStatus(row["status"]),
        created_at=row["created_at"],
        completed_at=row["completed_at"],
    )


def task(row: Row) -> Task:
    return Task(
        id=row["id"],
        project_id=row["project_id"],
        epic_id=row["epic_id"],
        key=row["key"],
        title=row["title"],
        description=row["description"],
        status=TaskStatus(row["status"]),
        priority=row["priority"],
        position=row["position"],
        estimate_minutes=row["estimate_minutes"],
        task_type=row["task_type"],
        model=row["model"],
        pinned_model=row.get("pinned_model"),
        attempts=row["attempts"],
        attempts_base=row.get("attempts_base", 0),
        expects_changes=row.get("expects_changes", True),
        depends_on=tuple(row["depends_on"]),
        dependency_type="soft" if row["dependency_type"] == "soft" else "hard",
        soft_depends_on=tuple(row["soft_depends_on"]),
        claimed_by=row["claimed_by"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
    )


def test(row: Row) -> Test:
    return Test(
        id=row["id"],
        task_id=row["task_id"],
        project_id=row["project_id"],
        description=row["description"],
        category=row["category"],
        steps=tuple(str(s) for s in row["steps"]),
        status=TestStatus(row["status"]),
        result=row["result"],
        created_at=row["created_at"],
        verified_at=row["verified_at"],
    )


def session(row: Row) -> Session:
    return Session(
        id=row["id"],
        project_id=row["project_id"],
        task_id=row["task_id"],
        kind=row["kind"],
        status=SessionStatus(row["status"]),
        model=row["model"],
        log_path=row["log_path"],
        summary=row["summary"],
        error=row["error"],
        metrics=dict(row["metrics"]),
        started_at=row["started_at"],
        ended_at=row["ended_at"],
    )


def parallel_batch(row: Row) -> ParallelBatch:
    return ParallelBatch(
        id=row["id"],
        project_id=row["project_id"],
        batch_number=row["batch_number"],
        status=BatchStatus(row["status"]),
        task_ids=tuple(row["task_ids"]),
        created_at=row["created_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
    )


def parallel_progress(row: Row) -> ParallelProgress:
    return ParallelProgress(
        batch_id=row["batch_id"],
        project_id=row["project_id"],
        batch_number=row["batch_number"],
        status=BatchStatus(row["status"]),
        total=row["total"],
        done=row["done"],
        running=row["running"],
        failed=row["failed"],
        pending=row["pending"],
    )


def worktree(row: Row) -> WorktreeRecord:
    return WorktreeRecord(
        id=row["id"],
        project_id=row["project_id"],
        task_id=row["task_id"],
        epic_id=row["epic_id"],
        branch=row["branch_name"],
        path=row["worktree_path"],
        status=WorktreeStatus(row["status"]),
        base_commit=row["base_commit"],
        merge_commit=row["merge_commit"],
        conflicts=tuple(ConflictFile(path=c["path"], kind=c["kind"]) for c in row["conflicts"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def agent_cost(row: Row) -> AgentCost:
    return AgentCost(
        id=row["id"],
        project_id=row["project_id"],
        session_id=row["session_id"],
        task_id=row["task_id"],
        model=row["model"],
        operation=row["operation"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_creation_tokens=row["cache_creation_tokens"],
        cost_usd=Decimal(row["cost_usd"]),
        recorded_at=row["recorded_at"],
    )


def cost_summary(row: Row) -> CostSummary:
    return CostSummary(
        model=row.get("model"),
        operation=row.get("operation"),
        calls=row["calls"],
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        cache_read_tokens=int(row["cache_read_tokens"]),
        cache_creation_tokens=int(row["cache_creation_tokens"]),
        cost_usd=Decimal(row["cost_usd"]),
    )


def expertise_file(row: Row) -> ExpertiseFile:
    return ExpertiseFile(
        id=row["id"],
        project_id=row["project_id"],
        domain=row["domain"],
        content=dict(row["content"]),
        version=row["version"],
        line_count=row["line_count"],
        validated_at=row["validated_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def expertise_update(row: Row) -> ExpertiseUpdate:
    return ExpertiseUpdate(
        id=row["id"],
        expertise_id=row["expertise_id"],
        session_id=row["session_id"],
        change_type=row["change_type"],
        summary=row["summary"],
        diff=row["diff"],
        version=row["version"],
        created_at=row["created_at"],
    )
