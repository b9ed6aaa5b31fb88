"""The parallel executor on real PostgreSQL and real git repositories."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from yokeflow.adapters.git import WorktreeManager
from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.plan import parse_plan
from yokeflow.core.records import TaskStatus
from yokeflow.core.schedule import Limits
from yokeflow.services.executor import ParallelExecutor
from yokeflow.testing.git_repos import git
from yokeflow.testing.sessions import EventLog, GitSessions

PLAN = """
name: shop
epics:
  - key: db
    name: Database
    tasks:
      - {key: schema, title: Schema, estimate_minutes: 3}
      - {key: seed, title: Seed data, depends_on: [schema]}
  - key: api
    name: API
    depends_on: [db]
    tasks:
      - {key: api-items, title: Items API, estimate_minutes: 2}
      - {key: api-orders, title: Orders API, estimate_minutes: 2}
  - key: ui
    name: UI
    tasks:
      - {key: shell, title: App shell}
      - {key: pages, title: Pages, depends_on: [api-items, shell]}
      - {key: docs, title: Docs}
"""

INTEGRATION = "yokeflow/integration"


async def _setup(store: PostgresStore, repo: Path) -> int:
    stored = await store.create_plan(parse_plan(PLAN, "plan.yaml"))
    return stored.project.id


def _executor(
    store: PostgresStore,
    repo: Path,
    project: int,
    sessions: GitSessions,
    events: EventLog,
    **limits: object,
) -> ParallelExecutor:
    return ParallelExecutor(
        store=store,
        workspace=WorktreeManager(repo, store, project_id=project),
        sessions=sessions,
        project_id=project,
        limits=Limits(**limits),  # type: ignore[arg-type]
        events=events,
    )


def _files_on_integration(repo: Path) -> set[str]:
    return set(git(repo, "ls-tree", "--name-only", INTEGRATION).split())


async def test_a_dependent_plan_runs_in_parallel_and_everything_lands(
    store: PostgresStore, repo: Path, events: EventLog
) -> None:
    project = await _setup(store, repo)
    # Sessions hold until three run at once: a loaded machine cannot hide the overlap.
    sessions = GitSessions(delay=0.3, gather=3)
    summary = await _executor(store, repo, project, sessions, events, max_concurrency=3).run()

    assert summary.outcome == "succeeded", summary.reason
    assert len(summary.merged) == 7
    assert _files_on_integration(repo) >= {
        f"{k}.txt" for k in ("schema", "seed", "api-items", "api-orders", "shell", "pages", "docs")
    }
    # Concurrency was used and never exceeded (observed inside the sessions).
    assert sessions.peak == 3
    # A dependent task sees its dependencies' code in its worktree.
    assert {"api-items.txt", "shell.txt"} <= set(sessions.seen["pages"])
    assert {"schema.txt", "seed.txt"} <= set(sessions.seen["api-orders"])
    # One worktree per task: tasks of one epic running together never share one.
    assert len(set(sessions.worktrees.values())) == 7
    # The store agrees.
    tasks = await store.list_tasks(project)
    assert {t.status for t in tasks} == {TaskStatus.DONE}
    batches = await store.list_parallel_batches(project)
    assert sum(len(b.task_ids) for b in batches) == 7
    assert {
        "batch_start",
        "batch_complete",
        "task_start",
        "task_complete",
        "cost_update",
        "agent_status",
        "merge",
    } <= set(events.kinds())
    assert events.kinds()[-1] == "run_finished"
    # The user's own checkout was never switched or touched.
    assert git(repo, "branch", "--show-current") == "main"
    assert git(repo, "status", "--porcelain") == ""


async def test_batches_policy_waits_for_each_level(
    store: PostgresStore, repo: Path, events: EventLog
) -> None:
    project = await _setup(store, repo)
    sessions = GitSessions(delay=0.1, delays={"schema": 0.6})
    summary = await _executor(
        store, repo, project, sessions, events, max_concurrency=4, schedule="batches"
    ).run()
    assert summary.outcome == "succeeded"
    starts = [e for e in events.events if e.kind == "task_start"]
    merges = {e.task: i for i, e in enumerate(events.events) if e.kind == "merge"}  # type: ignore[union-attr]
    position = {e.task: i for i, e in enumerate(events.events) if e.kind == "task_start"}  # type: ignore[union-attr]
    # Level 1 is schema, shell, docs; nothing of level 2 starts before all of level 1 merged.
    for later in ("seed", "api-items", "api-orders"):
        assert position[later] > max(merges["schema"], merges["shell"], merges["docs"])
    assert len(starts) == 7


async def test_a_failed_attempt_is_retried_on_a_stronger_model(
    store: PostgresStore, repo: Path, events: EventLog
) -> None:
    project = await _setup(store, repo)
    sessions = GitSessions(delay=0.05, fail_attempts={"seed": 1})
    summary = await _executor(
        store, repo, project, sessions, events, max_concurrency=2, max_attempts=2, retry_backoff=0.1
    ).run()
    assert summary.outcome == "succeeded", summary.reason
    assert sessions.attempts["seed"] == 2
    starts = [e for e in events.events if e.kind == "task_start" and e.task == "seed"]  # type: ignore[union-attr]
    assert [(e.attempt, e.model) for e in starts] == [
        (1, "claude-haiku-4-5"),
        (2, "claude-opus-4-5"),
    ]  # type: ignore[union-attr]


async def test_a_task_failing_for_good_blocks_only_its_dependents(
    store: PostgresStore, repo: Path, events: EventLog
) -> None:
    project = await _setup(store, repo)
    sessions = GitSessions(delay=0.05, fail_attempts={"schema": 9})
    summary = await _executor(
        store,
        repo,
        project,
        sessions,
        events,
        max_concurrency=3,
        max_attempts=2,
        retry_backoff=0.05,
    ).run()
    assert summary.outcome == "failed"
    assert summary.failed == ("schema",)
    assert set(summary.blocked) == {"seed", "api-items", "api-orders", "pages"}
    assert set(summary.merged) == {"shell", "docs"}
    by_key = {t.key: t for t in await store.list_tasks(project)}
    assert by_key["schema"].status is TaskStatus.FAILED
    assert by_key["schema"].attempts == 2
    assert by_key["pages"].status is TaskStatus.BLOCKED


async def test_fail_fast_stops_launching(
    store: PostgresStore, repo: Path, events: EventLog
) -> None:
    project = await _setup(store, repo)
    sessions = GitSessions(delay=0.05, fail_attempts={"schema": 9})
    summary = await _executor(
        store, repo, project, sessions, events, max_concurrency=1, max_attempts=1, fail_fast=True
    ).run()
    assert summary.outcome == "failed"
    assert "fail-fast" in summary.reason
    assert len(sessions.attempts) < 7


async def test_cancel_stops_agents_keeps_work_and_a_new_run_resumes(
    store: PostgresStore, repo: Path, events: EventLog
) -> None:
    project = await _setup(store, repo)
    sessions = GitSessions(delay=0.1, delays={"seed": 30, "shell": 30, "docs": 30})
    executor = _executor(store, repo, project, sessions, events, max_concurrency=3)
    run = asyncio.create_task(executor.run())
    for _ in range(300):
        await asyncio.sleep(0.05)
        if "seed" in sessions.attempts:
            break
    assert executor.get_status().running
    executor.cancel()
    summary = await asyncio.wait_for(run, 30)
    assert summary.outcome == "cancelled"
    assert sessions.running == 0
    assert "schema" in summary.merged
    by_key = {t.key: t for t in await store.list_tasks(project)}
    assert by_key["seed"].status is TaskStatus.CANCELLED
    # The second run resumes: merged work is not redone, the rest lands.
    again = GitSessions(delay=0.05)
    summary = await _executor(store, repo, project, again, EventLog(), max_concurrency=3).run()
    assert summary.outcome == "succeeded", summary.reason
    assert "schema" not in again.attempts
    assert len(_files_on_integration(repo) & {f"{k}.txt" for k in by_key}) == 7


def _run_and_kill(url: str, repo: Path, project: int, kill_after: int) -> list[str]:
    """Run the executor in a child process, SIGKILL it after its n-th event; the tasks it merged."""
    merged: list[str] = []
    script = Path(__file__).with_name("child_run.py")
    with subprocess.Popen(
        [sys.executable, str(script), url, str(repo), str(project)],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        for seen, line in enumerate(child.stdout, start=1):
            kind, _, task = line.strip().partition(" ")
            if kind == "merge":
                merged.append(task)
            if seen == kill_after:
                child.send_signal(signal.SIGKILL)
                break
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    return merged


@pytest.mark.parametrize("kill_after", [4, 13])
async def test_a_run_killed_at_any_point_resumes_without_redoing_or_losing_work(
    store: PostgresStore, repo: Path, pg_database_url: str, kill_after: int
) -> None:
    project = await _setup(store, repo)
    merged_before = await asyncio.to_thread(
        _run_and_kill, pg_database_url, repo, project, kill_after
    )
    commits_before = git(
        repo, "for-each-ref", "--format=%(objectname)", "refs/heads/yokeflow/task/"
    ).split()

    again = GitSessions(delay=0.05)
    summary = await _executor(store, repo, project, again, EventLog(), max_concurrency=3).run()
    assert summary.outcome == "succeeded", summary.reason
    assert not set(merged_before) & set(again.attempts), "merged tasks were run again"
    assert _files_on_integration(repo) >= {
        f"{k}.txt" for k in ("schema", "seed", "api-items", "api-orders", "shell", "pages", "docs")
    }
    for (
        commit
    ) in commits_before:  # every task commit made before the kill is on the integration branch
        git(repo, "merge-base", "--is-ancestor", commit, INTEGRATION)


async def test_a_task_parked_by_its_agent_waits_for_the_declared_dependency(
    store: PostgresStore, repo: Path, events: EventLog
) -> None:
    from yokeflow.adapters.postgres.mcp_ops import PostgresPlanEdits

    project = await _setup(store, repo)
    pages = await store.get_task_by_key(project, "pages")
    assert pages is not None
    edits = PostgresPlanEdits(store.pool)

    async def park_docs(task: object, attempt: int) -> bool:
        # What the MCP tool declare_dependency does when the docs agent finds it needs the pages.
        if getattr(task, "key", None) == "docs" and attempt == 1:
            await edits.declare_dependency(task.id, pages.id, reason="documents the pages")  # type: ignore[attr-defined]
            return True
        return False

    sessions = GitSessions(delay=0.05, on_start=park_docs)
    summary = await _executor(store, repo, project, sessions, events, max_concurrency=3).run()
    assert summary.outcome == "succeeded", summary.reason
    starts = [e for e in events.events if e.kind == "task_start" and e.task == "docs"]  # type: ignore[union-attr]
    assert len(starts) == 2
    # The second attempt came after the declared dependency landed, and saw its work.
    merged_pages = next(
        i for i, e in enumerate(events.events) if e.kind == "merge" and e.task == "pages"
    )  # type: ignore[union-attr]
    assert events.events.index(starts[1]) > merged_pages
    assert "pages.txt" in sessions.seen["docs"]
