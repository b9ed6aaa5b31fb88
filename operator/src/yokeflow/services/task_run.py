"""One task, end to end: prompt, agent session, verification, commit, cost, report.

This is the use case behind ``yokeflow runner task``. It depends on ports only (the agent, the
task checkout, a cost recorder, a session ledger); ``runner/main.py`` wires the real adapters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import anyio

from yokeflow.core.hygiene import GITIGNORE_HEADER
from yokeflow.core.prompts import PromptTemplates
from yokeflow.core.records import SessionStatus
from yokeflow.core.run_state import NO_CHANGES, own_files_only
from yokeflow.errors import TemporaryError, YokeflowError
from yokeflow.ports.agent import (
    AgentRequest,
    AgentResult,
    AgentRunner,
    Cancellation,
    CostRecorder,
    McpServer,
)
from yokeflow.ports.checkout import Changes, TaskCheckout, VerificationStep

__all__ = [
    "SessionLedger",
    "TaskReport",
    "TaskRunConfig",
    "TaskSpec",
    "run_task",
    "task_prompt_variables",
]


@dataclass(frozen=True)
class TaskSpec:
    """What the runner needs to know about the task (from the database or a plan file)."""

    project_name: str
    key: str
    title: str
    description: str
    epic_key: str
    epic_name: str
    dependencies: tuple[tuple[str, str], ...] = ()
    """``(key, title)`` of the tasks this one depends on (already merged)."""
    verification_steps: tuple[str, ...] = ()
    """The task's own test steps, shown to the agent."""
    project_id: int | None = None
    task_id: int | None = None
    expects_changes: bool = True
    """False: a session that changes no file is not a failed attempt."""


@dataclass(frozen=True)
class TaskRunConfig:
    """How to run it."""

    worktree: Path
    """The worktree's path (the agent's directory)."""
    model: str
    branch: str | None = None
    """The task branch (default: the worktree's current branch)."""
    base_branch: str = "main"
    verify_commands: tuple[str, ...] = ()
    """Commands that must pass after the session (``agent.verify_command``)."""
    max_turns: int = 60
    timeout_seconds: float = 1800.0
    verify_timeout_seconds: float = 900.0
    transcript_path: Path | None = None
    mcp_servers: tuple[McpServer, ...] = ()
    expertise: str = ""
    domain: str = "general"
    max_retries: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    marker: str | None = None
    """Names the session's processes (the lease's handle)."""
    keep_failed_work: bool = False
    """Commit what a failed attempt left in the worktree too (in a pod, whose worktree does not
    outlive it, so that its work is pushed to the task branch and the next attempt continues
    from it, as a local retry continues in its kept worktree)."""


class SessionLedger(Protocol):
    """The part of the store that keeps ``sessions`` rows (the store implements it)."""

    async def start_session(
        self,
        project_id: int,
        *,
        task_id: int | None = None,
        kind: str = "task",
        model: str | None = None,
        log_path: str | None = None,
    ) -> Any: ...

    async def end_session(
        self,
        session_id: int,
        status: Any,
        *,
        summary: str | None = None,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> Any: ...


@dataclass
class TaskReport:
    """What happened, printed as JSON by ``yokeflow runner task``."""

    task: str
    success: bool = False
    stage: str = "session"
    """Where it stopped: ``session``, ``verification``, ``commit`` or ``done``."""
    error: str | None = None
    session: dict[str, Any] = field(default_factory=dict)
    verification: list[dict[str, Any]] = field(default_factory=list)
    commit: str | None = None
    base_commit: str | None = None
    cost_usd: str = "0"
    cost_recorded: bool = False
    cost_error: str | None = None
    """Why the cost could not be recorded (the work is committed all the same)."""
    session_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)


def task_prompt_variables(spec: TaskSpec, config: TaskRunConfig, branch: str) -> dict[str, Any]:
    """The variables of ``prompts/task.md.j2`` for this task."""
    return {
        "project_name": spec.project_name,
        "task": {"key": spec.key, "title": spec.title, "description": spec.description},
        "epic": {"key": spec.epic_key, "name": spec.epic_name},
        "dependencies": [{"key": k, "title": t} for k, t in spec.dependencies],
        "worktree": {
            "path": str(config.worktree),
            "branch": branch,
            "base_branch": config.base_branch,
        },
        "expertise": config.expertise,
        "domain": config.domain,
        "verification": [*config.verify_commands, *spec.verification_steps],
        "mcp_tools": bool(config.mcp_servers),
    }


def _session_summary(result: AgentResult) -> dict[str, Any]:
    return {
        "success": result.success,
        "end": result.end,
        "error": result.error,
        "model": result.model,
        "session_id": result.session_id,
        "total_cost_usd": str(result.total_cost_usd),
        "usage": asdict(result.usage),
        "num_turns": result.num_turns,
        "duration_seconds": round(result.duration_seconds, 3),
        "tools_used": list(result.tools_used),
        "tool_calls": result.tool_calls,
        "tool_failures": [asdict(f) for f in result.tool_failures],
        "files_modified": list(result.files_modified),
        "hygiene": [f.message for f in result.hygiene],
        "gitignore_added": list(result.gitignore_added),
        "transcript": str(result.transcript_path) if result.transcript_path else None,
        "final_text": result.final_text,
    }


def _yokeflow_files_only(changes: Changes, gitignore_added: Sequence[str]) -> bool:
    # A line "removed" and added again is the last line gaining its newline.
    added = set(changes.gitignore_added) - set(changes.gitignore_removed)
    removed = set(changes.gitignore_removed) - set(changes.gitignore_added)
    return own_files_only(
        changes.paths,
        gitignore_added_by_yokeflow=bool(gitignore_added),
        gitignore_only_added=not removed and added <= {*gitignore_added, GITIGNORE_HEADER},
    )


async def _keep_failed_work(
    checkout: TaskCheckout, config: TaskRunConfig, spec: TaskSpec, report: TaskReport
) -> None:
    if not config.keep_failed_work or report.session.get("end") == "cancelled":
        return
    message = f"{spec.key}: unfinished ({report.stage} failed)\n\n{(report.error or '')[:500]}"
    try:
        commit = await anyio.to_thread.run_sync(checkout.commit_all, message)
    except YokeflowError:
        return  # nothing committable (or git refused): the report says why the task failed
    if commit is not None:
        report.commit = commit


async def _record_cost(
    costs: CostRecorder,
    spec: TaskSpec,
    result: AgentResult,
    session_row: int | None,
    report: TaskReport,
) -> None:
    assert spec.project_id is not None
    try:
        await costs.record_agent_cost(
            spec.project_id,
            model=result.model,
            cost_usd=result.total_cost_usd,
            session_id=session_row,
            task_id=spec.task_id,
            operation="task",
            input_tokens=result.usage.input,
            output_tokens=result.usage.output,
            cache_read_tokens=result.usage.cache_read,
            cache_creation_tokens=result.usage.cache_creation,
        )
    except TemporaryError as exc:
        # An outage of the books must not cost the work: it is committed and reported, and the
        # report carries the cost for whoever reads it.
        report.cost_error = str(exc)
        return
    report.cost_recorded = True


async def run_task(
    spec: TaskSpec,
    config: TaskRunConfig,
    *,
    agent: AgentRunner,
    checkout: TaskCheckout,
    prompts: PromptTemplates,
    costs: CostRecorder | None = None,
    sessions: SessionLedger | None = None,
    cancel: Cancellation | None = None,
) -> TaskReport:
    """Run ``spec`` in ``config.worktree`` and report. Never raises for a failed task: the
    report says where it stopped. The session's cost is recorded whatever happened."""
    report = TaskReport(task=spec.key)
    branch = config.branch
    if branch is None:
        branch = await anyio.to_thread.run_sync(checkout.branch)
    report.base_commit = await anyio.to_thread.run_sync(checkout.head)
    prompt = prompts.render("task", task_prompt_variables(spec, config, branch))
    session_row: int | None = None
    if sessions is not None and spec.project_id is not None:
        row = await sessions.start_session(
            spec.project_id,
            task_id=spec.task_id,
            kind="task",
            model=config.model,
            log_path=str(config.transcript_path) if config.transcript_path else None,
        )
        session_row = int(row.id)
        report.session_id = session_row
    request = AgentRequest(
        prompt=prompt,
        cwd=config.worktree,
        model=config.model,
        system_prompt=None,
        mcp_servers=config.mcp_servers,
        max_turns=config.max_turns,
        timeout_seconds=config.timeout_seconds,
        task=spec.key,
        transcript_path=config.transcript_path,
        max_retries=config.max_retries,
        env=config.env,
        marker=config.marker,
    )
    result = await agent.run(request, cancel=cancel)
    report.session = _session_summary(result)
    report.cost_usd = str(result.total_cost_usd)
    try:
        if costs is not None and spec.project_id is not None:
            await _record_cost(costs, spec, result, session_row, report)
        if not result.success:
            report.error = result.error or f"session ended: {result.end}"
            await _keep_failed_work(checkout, config, spec, report)
            return report
        report.stage = "verification"
        steps: Sequence[VerificationStep] = await anyio.to_thread.run_sync(
            checkout.verify, list(config.verify_commands), config.verify_timeout_seconds
        )
        report.verification = [{**asdict(s), "passed": s.passed} for s in steps]
        failed = next((s for s in steps if not s.passed), None)
        if failed is not None:
            code = "timed out" if failed.exit_code is None else f"exit {failed.exit_code}"
            report.error = f"verification failed: `{failed.command}` ({code})"
            await _keep_failed_work(checkout, config, spec, report)
            return report
        report.stage = "commit"
        message = f"{spec.key}: {spec.title}\n\nYokeFlow task {spec.key} ({spec.epic_key})."
        await anyio.to_thread.run_sync(checkout.commit_all, message)
        report.commit = await anyio.to_thread.run_sync(checkout.head)
        changes = await anyio.to_thread.run_sync(
            checkout.changes_since, config.base_branch, report.base_commit
        )
        if spec.expects_changes and _yokeflow_files_only(changes, result.gitignore_added):
            # Only YokeFlow's own files (its .gitignore lines, .yokeflow/) moved, if anything:
            # the task's work is not there, whatever the agent reported.
            report.error = NO_CHANGES
            return report
        report.stage = "done"
        report.success = True
        return report
    finally:
        if sessions is not None and session_row is not None:
            status = (
                SessionStatus.SUCCEEDED
                if report.success
                else SessionStatus.CANCELLED
                if result.end == "cancelled"
                else SessionStatus.FAILED
            )
            await _end_session(
                sessions,
                session_row,
                status,
                result.final_text,
                report.error,
                {
                    "cost_usd": float(Decimal(report.cost_usd)),
                    "num_turns": result.num_turns,
                    "duration_seconds": round(result.duration_seconds, 3),
                    "stage": report.stage,
                    "commit": report.commit,
                },
            )


async def _end_session(
    sessions: SessionLedger,
    session_row: int,
    status: SessionStatus,
    summary: str | None,
    error: str | None,
    metrics: Mapping[str, Any],
) -> None:
    try:
        await sessions.end_session(
            session_row, status, summary=summary, error=error, metrics=metrics
        )
    except TemporaryError:
        # Left open, the row tells the run that this session's end was not recorded (its
        # reconcile step closes it); the report stands either way.
        return
