"""A run's tasks as `status` shows them, and a transcript as `logs` renders it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from yokeflow.core.records import AgentCost, Session, SessionStatus, Task, TaskStatus
from yokeflow.core.run_view import count_states, task_lines, task_state
from yokeflow.core.schedule import TaskState
from yokeflow.core.transcript_view import render_transcript
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _task(task_id: int, status: TaskStatus, **fields: object) -> Task:
    return Task(
        id=task_id, project_id=1, epic_id=1, key=f"t{task_id}", title="T", status=status, **fields
    )  # type: ignore[arg-type]


def _tree(
    task_id: int, status: WorktreeStatus, record: int = 0, **fields: object
) -> WorktreeRecord:
    return WorktreeRecord(
        id=record or task_id,
        project_id=1,
        task_id=task_id,
        epic_id=1,
        branch=f"yokeflow/task/{task_id}",
        path=f"/w/{task_id}",
        status=status,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("status", "tree", "state"),
    [
        (TaskStatus.DONE, WorktreeStatus.MERGED, TaskState.MERGED),
        (TaskStatus.DONE, WorktreeStatus.CONFLICT, TaskState.CONFLICT),
        (TaskStatus.DONE, WorktreeStatus.FAILED, TaskState.FAILED),
        (TaskStatus.DONE, WorktreeStatus.ACTIVE, TaskState.DONE),
        (TaskStatus.DONE, None, TaskState.DONE),
        (TaskStatus.FAILED, WorktreeStatus.ACTIVE, TaskState.FAILED),
        (TaskStatus.BLOCKED, None, TaskState.BLOCKED),
        (TaskStatus.RUNNING, WorktreeStatus.ACTIVE, TaskState.RUNNING),
        (TaskStatus.PENDING, WorktreeStatus.MERGED, TaskState.PENDING),
        (TaskStatus.CANCELLED, None, TaskState.CANCELLED),
    ],
)
def test_a_tasks_state_joins_its_status_with_its_worktrees(
    status: TaskStatus, tree: WorktreeStatus | None, state: TaskState
) -> None:
    record = _tree(1, tree) if tree is not None else None
    assert task_state(_task(1, status), record) is state


def test_lines_carry_attempts_model_cost_time_branch_and_the_reason() -> None:
    tasks = [
        _task(1, TaskStatus.DONE, attempts=1, model="claude-haiku-4-5"),
        _task(2, TaskStatus.FAILED, attempts=2, last_error="HTTP 400"),
        _task(3, TaskStatus.BLOCKED, last_error="dependency t2 did not land"),
        _task(4, TaskStatus.DONE, attempts=1),
        _task(5, TaskStatus.RUNNING, attempts=1),
        _task(6, TaskStatus.DONE, attempts=1),
    ]
    trees = [
        _tree(1, WorktreeStatus.ACTIVE, record=1),
        _tree(1, WorktreeStatus.MERGED, record=9),  # the newest record of a task wins
        _tree(4, WorktreeStatus.CONFLICT, conflicts=(ConflictFile("README.md", "content"),)),
        _tree(6, WorktreeStatus.FAILED),
    ]
    sessions = [
        Session(1, 1, 1, "task", SessionStatus.SUCCEEDED, metrics={"duration_seconds": 12.5},
                started_at=NOW - timedelta(minutes=5), ended_at=NOW - timedelta(minutes=4)),
        Session(2, 1, 2, "task", SessionStatus.FAILED, error="first error",
                started_at=NOW - timedelta(minutes=3), ended_at=NOW - timedelta(minutes=2)),
        Session(3, 1, 2, "task", SessionStatus.FAILED, error="HTTP 400 again",
                started_at=NOW - timedelta(minutes=2), ended_at=NOW - timedelta(minutes=1)),
        Session(4, 1, 5, "task", SessionStatus.RUNNING, started_at=NOW - timedelta(seconds=30)),
        Session(5, 1, None, "planning", SessionStatus.SUCCEEDED),
    ]  # fmt: skip
    costs = [
        AgentCost(1, 1, 1, 1, "m", cost_usd=Decimal("0.10")),
        AgentCost(2, 1, 7, 4, "m", operation="resolution", cost_usd=Decimal("0.02")),
        AgentCost(3, 1, 4, 4, "m", cost_usd=Decimal("0.01")),
        AgentCost(4, 1, 5, None, "m", operation="planning", cost_usd=Decimal("0.50")),
    ]
    lines = {line.key: line for line in task_lines(tasks, trees, sessions, costs, NOW)}
    assert lines["t1"].state is TaskState.MERGED
    assert lines["t1"].branch == "yokeflow/task/1"
    assert lines["t1"].model == "claude-haiku-4-5"
    assert lines["t1"].cost_usd == Decimal("0.10")
    assert lines["t1"].duration_seconds == 12.5  # measured by the session itself
    assert lines["t1"].error is None
    assert lines["t2"].error == "HTTP 400"  # the task's own record first
    assert lines["t2"].attempts == 2
    assert lines["t2"].duration_seconds == 120.0  # both attempts
    assert lines["t3"].error == "dependency t2 did not land"
    assert lines["t4"].state is TaskState.CONFLICT
    assert lines["t4"].cost_usd == Decimal("0.03")  # its resolution included
    assert lines["t4"].error == "merge conflict in README.md; branch yokeflow/task/4 kept"
    assert lines["t5"].duration_seconds == 30.0  # running: until now
    assert lines["t6"].state is TaskState.FAILED
    assert "verification failed" in (lines["t6"].error or "")
    counts = count_states(lines.values())
    assert counts == {
        "merged": 1, "done": 0, "running": 1, "pending": 0,
        "conflict": 1, "failed": 2, "blocked": 1, "cancelled": 0,
    }  # fmt: skip
    assert json.loads(json.dumps(lines["t1"].to_dict()))["cost_usd"] == "0.10"


def test_a_failed_task_without_its_own_reason_shows_its_last_sessions_error() -> None:
    sessions = [
        Session(1, 1, 1, "task", SessionStatus.FAILED, error="older"),
        Session(2, 1, 1, "task", SessionStatus.FAILED, error="newest"),
    ]
    (line,) = task_lines([_task(1, TaskStatus.FAILED)], [], sessions, [], NOW)
    assert line.error == "newest"


def _transcript(*lines: dict[str, object]) -> list[str]:
    return [json.dumps(line) for line in lines]


def test_a_transcript_is_rendered_readably() -> None:
    raw = _transcript(
        {"at": 100.0, "kind": "request", "task": "api", "model": "claude-haiku-4-5",
         "cwd": "/w/api", "prompt": "Build the API.\nMore."},
        {"at": 100.5, "kind": "message", "message": {"type": "SystemMessage", "subtype": "init",
         "data": {"model": "claude-haiku-4-5", "tools": ["Bash", "Write"],
                  "mcp_servers": [{"name": "yokeflow", "status": "connected"}]}}},
        {"at": 101.0, "kind": "message", "message": {"type": "AssistantMessage", "content": [
            {"type": "TextBlock", "text": "Writing it."},
            {"type": "ToolUseBlock", "id": "u1", "name": "Bash", "input": {"command": "pytest -q"}},
        ]}},
        {"at": 102.0, "kind": "message", "message": {"type": "UserMessage", "content": [
            {"type": "ToolResultBlock", "tool_use_id": "u1", "content": "1 failed", "is_error": True},
        ]}},
        {"at": 103.0, "kind": "stderr", "line": "warning: x"},
        {"at": 104.0, "kind": "message", "message": {"type": "ResultMessage", "subtype": "success",
         "is_error": False, "num_turns": 3, "total_cost_usd": 0.0123}},
        {"at": 104.5, "kind": "result", "result": {"success": False, "end": "error",
         "error": "verification failed", "num_turns": 3, "total_cost_usd": "0.0123",
         "duration_seconds": 4.5, "files_modified": ["api.py"]}},
    )  # fmt: skip
    raw.insert(3, "not json at all")
    shown = [(r.kind, r.plain()) for r in render_transcript(raw)]
    text = "\n".join(line for _, line in shown)
    assert shown[0] == ("session", "[   0.0s] session of api on claude-haiku-4-5 in /w/api")
    assert "prompt: Build the API." in text
    assert "CLI started: model claude-haiku-4-5, 2 tools, MCP: yokeflow connected" in text
    assert "[   1.0s] says: Writing it." in text
    assert ("tool", "[   1.0s] → Bash: pytest -q") in shown
    assert ("error", "[   2.0s] ← 1 failed") in shown
    assert "(not JSON) not json at all" in text
    assert "stderr: warning: x" in text
    assert "CLI result: success, 3 turns, $0.0123" in text
    assert shown[-1][0] == "error"
    assert "session failed (error): verification failed — 3 turns, $0.0123, 4.5 s, 1 files" in text


def test_long_outputs_are_cut() -> None:
    output = "\n".join(f"line {n}" for n in range(50))
    raw = _transcript(
        {"at": 1.0, "kind": "message", "message": {"type": "UserMessage", "content": [
            {"type": "ToolResultBlock", "tool_use_id": "u", "content": output, "is_error": False}]}},
    )  # fmt: skip
    (rendered,) = render_transcript(raw)
    assert "line 2" in rendered.text
    assert "line 3" not in rendered.text
    assert "(47 more lines)" in rendered.text
