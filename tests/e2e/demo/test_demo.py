"""The whole pipeline as a user runs it: `yokeflow demo`, and a run stopped by its budget.

Real parts only: the real Claude Code CLI (from the claude-agent-sdk wheel) against the scripted
model server, real git worktrees and merges, the embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import EmbeddedPostgres, PostgresStore
from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario
from yokeflow.local.demo import make_sample_repository
from yokeflow.local.demo_files import demo_dir, demo_plan
from yokeflow.local.run import RunRequest, run_local
from yokeflow.settings import load_settings

pytestmark = pytest.mark.agent

YOKEFLOW = str(Path(sys.executable).with_name("yokeflow"))


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """An embedded PostgreSQL of its own, stopped and removed at the end.

    Not under pytest's temporary folder: that one is private to root, and the server (and
    ``pg_ctl``) run as an unprivileged user that must reach its data folder.
    """
    parent = Path(tempfile.mkdtemp(prefix="yokeflow-e2e-"))
    parent.chmod(0o755)
    yield parent / "data"
    EmbeddedPostgres(parent / "data").stop()
    shutil.rmtree(parent, ignore_errors=True)


async def _store(data_dir: Path) -> PostgresStore:
    url = await EmbeddedPostgres(data_dir).start()
    return await PostgresStore.connect(url)


def test_the_demo_plans_builds_merges_and_its_result_passes_its_tests(
    tmp_path: Path, data_dir: Path
) -> None:
    env = {**os.environ, "YOKEFLOW_DATABASE_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [YOKEFLOW, "demo", "--workdir", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["outcome"] == "succeeded"
    assert report["tests_passed"] is True
    assert report["merged"] == report["tasks"] == 12
    # The scenario's two README tasks collide: one predicted conflict, resolved by an agent.
    assert len(report["resolved"]) == 1
    assert report["resolved"][0] in ("docs-usage", "docs-features")
    assert report["conflicts"] == []
    assert report["makespan_seconds"] < report["sequential_seconds"]
    repo = next(tmp_path.glob("todo-app-*"))
    head = subprocess.run(
        ["git", "rev-parse", "main", "yokeflow/integration"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    main_commit, integration = head.stdout.split()
    assert main_commit == integration
    readme = (repo / "README.md").read_text()
    assert "## Usage" in readme
    assert "## Features" in readme
    assert "<<<<<<<" not in readme
    tracked = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert tracked.stdout == ""
    # Learning is live: the sessions' lessons are in readable expertise files.
    assert list((repo / ".yokeflow" / "expertise").glob("*.md"))

    async def check_database() -> None:
        store = await _store(data_dir)
        try:
            project = (await store.list_projects())[-1]
            sessions = await store.list_sessions(project.id)
            costs = await store.list_agent_costs(project.id)
            task_sessions = [s for s in sessions if s.kind == "task"]
            assert len(task_sessions) == 12
            # Every session has its agent_costs row, and the rows add up to what the SDK reported.
            by_session = {c.session_id: c for c in costs if c.session_id is not None}
            assert {s.id for s in sessions} <= set(by_session)
            reported = sum(Decimal(str(s.metrics["cost_usd"])) for s in task_sessions)
            recorded = sum(by_session[s.id].cost_usd for s in task_sessions)
            assert abs(reported - recorded) < Decimal("0.000001")
            # Models follow complexity: the demo's plan has routine and harder tasks.
            assert len({s.model for s in task_sessions}) >= 2
            assert sum(Decimal(m["cost_usd"]) for m in report["cost_by_model"]) == sum(
                c.cost_usd for c in costs
            )
        finally:
            await store.close()

    asyncio.run(check_database())


def test_a_budget_below_the_plans_cost_stops_launching(tmp_path: Path, data_dir: Path) -> None:
    repo = make_sample_repository(tmp_path / "repo")
    limit = Decimal("0.20")
    settings = load_settings(
        repo,
        environ={},
        overrides={
            "database": {"data_dir": str(data_dir)},
            "cost": {"budget_limit_usd": float(limit)},
            "parallel": {"max_concurrency": 3},
        },
    )
    scenario_file = demo_dir() / "scenario.yaml"
    with ScriptedModelServer(
        parse_scenario(scenario_file.read_text(), str(scenario_file))
    ) as server:
        request = RunRequest(
            repo=repo, plan=demo_plan(), name="budget-check", model_endpoint=server.url
        )
        outcome = asyncio.run(run_local(settings, request))
    summary = outcome.summary
    assert summary.outcome == "budget_exhausted", summary.reason
    assert len(summary.merged) < 12

    async def spent() -> tuple[Decimal, Decimal]:
        store = await _store(data_dir)
        try:
            costs = await store.list_agent_costs(outcome.project.id)
            return sum((c.cost_usd for c in costs), Decimal(0)), max(c.cost_usd for c in costs)
        finally:
            await store.close()

    total, largest = asyncio.run(spent())
    assert total == summary.cost_usd
    # Agents already running finish; nothing starts once the estimates no longer fit, so the
    # overrun is at most what the running agents cost beyond their reservations.
    assert total <= limit + 3 * largest


def test_run_status_and_costs_commands_on_a_plan_file(tmp_path: Path, data_dir: Path) -> None:
    repo = make_sample_repository(tmp_path / "repo")
    env = {**os.environ, "YOKEFLOW_DATABASE_DATA_DIR": str(data_dir)}
    scenario_file = demo_dir() / "scenario.yaml"
    with ScriptedModelServer(
        parse_scenario(scenario_file.read_text(), str(scenario_file))
    ) as server:
        run = subprocess.run(
            [
                YOKEFLOW,
                "run",
                "--repo",
                str(repo),
                "--plan",
                str(demo_dir() / "plan.yaml"),
                "--name",
                "cli-run",
                "--max-concurrency",
                "4",
                "--schedule",
                "batches",
                "--model-endpoint",
                server.url,
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["merged"] == 12
    assert report["concurrency"] == 4
    # Inside the repository the reporting commands find the run's project by themselves.
    status = subprocess.run(
        [YOKEFLOW, "status", "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["project"] == "cli-run"
    shown = json.loads(status.stdout)
    # Every task is merged (the state joins the task's status with its worktree's).
    assert {k: v for k, v in shown["counts"].items() if v} == {"merged": 12}
    assert {t["state"] for t in shown["tasks"]} == {"merged"}
    costs = subprocess.run(
        [YOKEFLOW, "costs", "--format", "json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert costs.returncode == 0, costs.stderr
    assert costs.stdout.strip().startswith("{")
    # A second run of the same plan is refused with a clear sentence, not a traceback.
    again = subprocess.run(
        [
            YOKEFLOW,
            "run",
            "--repo",
            str(repo),
            "--plan",
            str(demo_dir() / "plan.yaml"),
            "--name",
            "cli-run",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr
