"""One task end to end (prompt, real CLI session, verification, commit, cost) — the use case,
the real PostgreSQL store, and the ``yokeflow runner task`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from yokeflow.adapters.claude.processes import marked_processes
from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.prompt_files import load_prompts
from yokeflow.adapters.task_checkout import GitTaskCheckout
from yokeflow.core.plan import parse_plan
from yokeflow.core.records import SessionStatus
from yokeflow.core.run_state import NO_CHANGES
from yokeflow.services.task_run import TaskRunConfig, TaskSpec, run_task
from yokeflow.services.task_sources import spec_from_store
from yokeflow.testing.agents import git, runner_for, scripted_model

pytestmark = [pytest.mark.agent, pytest.mark.usefixtures("test_marker"), pytest.mark.timeout(180)]

MODEL = "claude-sonnet-4-5"

SCENARIO = """
rules:
  - task: db-schema
    usage: {input_tokens: 12000, output_tokens: 900, cache_read_input_tokens: 5000, cache_creation_input_tokens: 700}
    turns:
      - tool: Write
        input: {file_path: "{cwd}/db/schema.sql", content: "CREATE TABLE todo (id int);\\n"}
      - text: "Schema created."
  - task: broken
    turns:
      - error: {status: 500, message: "scripted outage"}
  - task: idle
    turns:
      - tool: Bash
        input: {command: "mkdir -p node_modules/x && echo y > node_modules/x/i.js && ls"}
      - text: "Looked around; nothing to change."
"""

PLAN = """
name: todo
epics:
  - key: db
    name: Database
    tasks:
      - key: db-schema
        title: Create the schema
        description: Write db/schema.sql with the todo table.
      - key: broken
        title: A task whose model fails
        depends_on: [db-schema]
"""


class CostLog:
    """An in-memory CostRecorder: the rows it was asked to write."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def record_agent_cost(self, project_id: int, **row: Any) -> object:
        self.rows.append({"project_id": project_id, **row})
        return row


def _spec(key: str, **extra: Any) -> TaskSpec:
    return TaskSpec(
        project_name="todo",
        key=key,
        title="Create the schema",
        description="Write db/schema.sql.",
        epic_key="db",
        epic_name="Database",
        project_id=7,
        task_id=70,
        **extra,
    )


MICRO = Decimal("0.000001")
"""The precision of ``agent_costs.cost_usd`` (NUMERIC(14, 6))."""


def _sdk_reported_cost(transcript: Path) -> Decimal:
    """The ``total_cost_usd`` of the SDK's ResultMessage, as the transcript kept it (the CLI sums
    in floats, so it may read 0.10725000000000001: compare with ``pytest.approx``)."""
    for line in transcript.read_text().splitlines():
        entry = json.loads(line)
        message = entry.get("message") or {}
        if message.get("type") == "ResultMessage":
            return Decimal(str(message["total_cost_usd"]))
    raise AssertionError("no ResultMessage in the transcript")


async def test_the_recorded_cost_equals_what_the_sdk_reported(repo: Path, tmp_path: Path) -> None:
    costs = CostLog()
    transcript = tmp_path / "t.jsonl"
    config = TaskRunConfig(
        worktree=repo,
        model=MODEL,
        verify_commands=("test -s db/schema.sql",),
        transcript_path=transcript,
    )
    with scripted_model(SCENARIO) as server:
        report = await run_task(
            _spec("db-schema"),
            config,
            agent=runner_for(server),
            checkout=GitTaskCheckout(repo),
            prompts=load_prompts(),
            costs=costs,
        )
    assert report.success, report.error
    assert report.stage == "done"
    reported = _sdk_reported_cost(transcript)
    assert reported > 0
    [row] = costs.rows
    assert row["cost_usd"] == pytest.approx(reported, abs=Decimal("1e-9"))
    assert Decimal(report.cost_usd) == row["cost_usd"]
    assert row == {
        "project_id": 7,
        "model": MODEL,
        "cost_usd": row["cost_usd"],
        "session_id": None,
        "task_id": 70,
        "operation": "task",
        "input_tokens": 2 * 12000,
        "output_tokens": 2 * 900,
        "cache_read_tokens": 2 * 5000,
        "cache_creation_tokens": 2 * 700,
    }
    # Committed in the worktree, with the .gitignore the session-end check added.
    assert git(repo, "log", "-1", "--format=%s").strip() == "db-schema: Create the schema"
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == [".gitignore", "db/schema.sql"]
    assert "node_modules/" in (repo / ".gitignore").read_text()
    # The agent was given the rendered task prompt.
    prompt = server.requests.turns()[0].prompt or ""
    assert "# Your task: Create the schema (`db-schema`)" in prompt
    assert f"git worktree** at `{repo}` on branch `main`" in prompt
    assert "- `test -s db/schema.sql`" in prompt


async def test_a_failed_session_still_records_its_cost_and_commits_nothing(repo: Path) -> None:
    costs = CostLog()
    head = git(repo, "rev-parse", "HEAD")
    with scripted_model(SCENARIO) as server:
        report = await run_task(
            _spec("broken"),
            TaskRunConfig(worktree=repo, model=MODEL, max_retries=0),
            agent=runner_for(server),
            checkout=GitTaskCheckout(repo),
            prompts=load_prompts(),
            costs=costs,
        )
    assert not report.success
    assert report.stage == "session"
    assert report.error is not None
    assert "500" in report.error
    assert report.cost_recorded
    assert len(costs.rows) == 1
    assert git(repo, "rev-parse", "HEAD") == head


@pytest.mark.parametrize("expects_changes", [True, False])
async def test_a_session_that_changes_only_yokeflows_own_files_is_no_work(
    repo: Path, expects_changes: bool
) -> None:
    # The session only creates a dependency folder: YokeFlow's hygiene adds .gitignore lines,
    # which is a commit — but not the task's work.
    head = git(repo, "rev-parse", "HEAD").strip()
    with scripted_model(SCENARIO) as server:
        report = await run_task(
            _spec("idle", expects_changes=expects_changes),
            TaskRunConfig(worktree=repo, model=MODEL),
            agent=runner_for(server),
            checkout=GitTaskCheckout(repo),
            prompts=load_prompts(),
        )
    changed = git(repo, "diff", "--name-only", head, "HEAD").split()
    assert changed == [".gitignore"]
    if expects_changes:
        assert not report.success
        assert report.error == NO_CHANGES
    else:
        assert report.success, report.error


async def test_a_failing_verification_fails_the_task(repo: Path) -> None:
    with scripted_model(SCENARIO) as server:
        report = await run_task(
            _spec("db-schema"),
            TaskRunConfig(
                worktree=repo, model=MODEL, verify_commands=("grep -q users db/schema.sql",)
            ),
            agent=runner_for(server),
            checkout=GitTaskCheckout(repo),
            prompts=load_prompts(),
        )
    assert not report.success
    assert report.stage == "verification"
    assert report.error == "verification failed: `grep -q users db/schema.sql` (exit 1)"
    assert report.commit is None


@pytest.mark.postgres
async def test_costs_and_sessions_are_written_to_postgresql(
    repo: Path, pg_database_url: str
) -> None:
    async with await PostgresStore.connect(pg_database_url) as store:
        stored = await store.create_plan(parse_plan(PLAN, "plan.yaml"))
        spec = await spec_from_store(store, "todo", "db-schema")
        assert spec.task_id == stored.task_ids["db-schema"]
        with scripted_model(SCENARIO) as server:
            report = await run_task(
                spec,
                TaskRunConfig(worktree=repo, model=MODEL, transcript_path=repo.parent / "t.jsonl"),
                agent=runner_for(server),
                checkout=GitTaskCheckout(repo),
                prompts=load_prompts(),
                costs=store,
                sessions=store,
            )
            failed = await run_task(
                await spec_from_store(store, str(stored.project.id), "broken"),
                TaskRunConfig(worktree=repo, model=MODEL, max_retries=0),
                agent=runner_for(server),
                checkout=GitTaskCheckout(repo),
                prompts=load_prompts(),
                costs=store,
                sessions=store,
            )
        assert report.success, report.error
        assert not failed.success
        rows = await store.list_agent_costs(stored.project.id)
        assert len(rows) == 2  # the failed session too
        ok = next(r for r in rows if r.task_id == stored.task_ids["db-schema"])
        assert ok.cost_usd == _sdk_reported_cost(repo.parent / "t.jsonl").quantize(MICRO)
        assert (ok.input_tokens, ok.output_tokens) == (24000, 1800)
        assert (ok.cache_read_tokens, ok.cache_creation_tokens) == (10000, 1400)
        assert ok.model == MODEL
        assert ok.session_id == report.session_id
        sessions = await store.list_sessions(stored.project.id)
        statuses = {s.task_id: s.status for s in sessions}
        assert statuses == {
            stored.task_ids["db-schema"]: SessionStatus.SUCCEEDED,
            stored.task_ids["broken"]: SessionStatus.FAILED,
        }


def _yokeflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("yokeflow")), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_runner_command_runs_a_task_from_a_plan_file(repo: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    lessons = tmp_path / "database.md"
    lessons.write_text("- Use SERIAL ids (db-init)\n")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_CODE_OAUTH"))
    }
    with scripted_model(SCENARIO) as server:
        common = [
            "--project",
            "todo",
            "--worktree",
            str(repo),
            "--plan",
            str(plan),
            "--endpoint",
            server.url,
        ]
        done = _yokeflow(
            "runner",
            "task",
            *common,
            "--task",
            "db-schema",
            "--verify",
            "test -s db/schema.sql",
            "--transcript",
            str(tmp_path / "t.jsonl"),
            "--expertise",
            str(lessons),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["success"] is True
        prompt = server.requests.turns("db-schema")[0].prompt or ""
        assert "- Use SERIAL ids (db-init)" in prompt
        assert "Expertise from earlier sessions" in prompt
        assert report["commit"] == git(repo, "rev-parse", "HEAD").strip()
        assert report["session"]["files_modified"] == ["db/schema.sql"]
        assert Decimal(report["cost_usd"]) == pytest.approx(
            _sdk_reported_cost(tmp_path / "t.jsonl"), abs=Decimal("1e-9")
        )
        assert report["cost_recorded"] is False  # a plan file has no database
        failed = _yokeflow(
            "runner", "task", *common, "--task", "broken", "--max-retries", "0", env=env
        )
        assert failed.returncode == 3, failed.stderr
        assert json.loads(failed.stdout)["stage"] == "session"
    missing = _yokeflow("runner", "task", *common, "--task", "nope", env=env)
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"error: {plan}: the plan has no task 'nope'"


def test_sigterm_cancels_the_runner_cleanly(repo: Path, tmp_path: Path, test_marker: str) -> None:
    """A task Job being deleted: the session ends as cancelled, reported, nothing left running."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    slow = "rules:\n  - task: db-schema\n    delay_seconds: 120\n    turns: [{text: never}]\n"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_CODE_OAUTH"))
    }
    with scripted_model(slow) as server:
        command = [
            str(Path(sys.executable).with_name("yokeflow")),
            *("runner", "task", "--project", "todo", "--task", "db-schema"),
            *("--worktree", str(repo), "--plan", str(plan), "--endpoint", server.url),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        deadline = time.monotonic() + 60
        while not server.requests.turns():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the model was never called"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    report = json.loads(stdout)
    assert report["session"]["end"] == "cancelled"
    assert report["stage"] == "session"
    assert marked_processes(test_marker, "YOKEFLOW_TEST_RUN") == []
