"""ProjectRuns with a spec text instead of a plan, on the process node: the operator starts a
planning Job (``yokeflow runner plan``: the real CLI against the scripted model writes epics and
tasks through the MCP task manager over HTTP, with a run-scoped token), sees it end from the
Job's status and its termination message, loads the plan, and carries the run out. The operator
SIGKILLed while the planning Job runs creates no second one. A planning session that fails is
tried again as ``agent.retries`` says, then fails the run with its reason in ``Planned``."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from yokeflow.testing.agents import scripted_model
from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.git_repos import git, make_repository
from yokeflow.testing.gitserver import GitServer
from yokeflow.testing.processnode.pytest_plugin import RunningProcessNode

from .conftest import OperatorProcess
from .runs import JobWatcher, condition, wait_for_phase
from .test_process_node_runs import on_the_process_node

pytestmark = [pytest.mark.controlplane, pytest.mark.agent, pytest.mark.timeout(600)]

NOTES_SPEC = "A notes app: store notes, then export them."
BROKEN_SPEC = "An app nobody can plan: the model is down."
SCENARIO = f"""
rules:
  - match: "{NOTES_SPEC}"
    delay_seconds: 2
    usage: {{input_tokens: 5000, output_tokens: 700}}
    turns:
      - tool: mcp__task-manager__create_epic
        input: {{name: Notes, key: notes}}
      - tool: mcp__task-manager__create_task
        input: {{epic: notes, key: notes-store, title: Store notes}}
      - tool: mcp__task-manager__create_task
        input: {{epic: notes, key: notes-export, title: Export notes, depends_on: [notes-store]}}
      - text: "Planned."
  - match: "{BROKEN_SPEC}"
    turns:
      - error: {{status: 500, message: "scripted planner outage"}}
  - task: notes-store
    usage: {{input_tokens: 2000, output_tokens: 300}}
    turns:
      - tool: Write
        input: {{file_path: "{{cwd}}/store.txt", content: "stored\\n"}}
      - text: "Stored."
  - task: notes-export
    usage: {{input_tokens: 2000, output_tokens: 300}}
    turns:
      - tool: Write
        input: {{file_path: "{{cwd}}/export.txt", content: "exported\\n"}}
      - text: "Exported."
"""


def spec_run(name: str, url: str, text: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": name},
        "spec": {"repository": {"url": url}, "spec": {"text": text}, **spec},
    }


def _planning_job_running(watcher: JobWatcher, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while True:
        jobs, _, _ = watcher.snapshot()
        for record in jobs.values():
            if record.component == "planner" and record.ended is None and "notes" in record.name:
                return record.name
        assert time.monotonic() < deadline, f"no running planning Job in {timeout:g}s: {jobs}"
        time.sleep(0.1)


def test_a_spec_is_planned_by_a_planning_job_then_carried_out(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    name = f"notes-{namespace}"
    url = git_server.publish(make_repository(tmp_path / "source"), name)
    notes = spec_run("notes", url, NOTES_SPEC)
    broken = spec_run(
        "broken", url, BROKEN_SPEC, agent={"retries": {"maxAttempts": 2, "backoffSeconds": 0}}
    )

    with scripted_model(SCENARIO) as model:
        env = on_the_process_node(model.url)
        with operator.reconfigured(env), JobWatcher(kubectl, namespace) as watcher:
            kubectl.apply(notes, "-n", namespace)
            kubectl.apply(broken, "-n", namespace)
            _planning_job_running(watcher)
            planning = kubectl.get("projectrun", "notes", "-n", namespace)["status"]
            operator.kill()  # while the planning session runs
            operator.restart(env)
            done = wait_for_phase(kubectl, namespace, "notes", {"Succeeded", "Failed"}, 400)
            failed = wait_for_phase(kubectl, namespace, "broken", {"Succeeded", "Failed"}, 300)
        jobs, creations, _ = watcher.snapshot()

    assert planning["phase"] == "Planning", planning
    assert condition({"status": planning}, "Planned")["reason"] == "Planning"
    assert len(creations) == len(set(creations)), creations  # no Job created twice
    planners = [r for r in jobs.values() if r.component == "planner" and "notes" in r.name]
    (planner,) = planners  # one planning Job, across the operator's restart
    assert planner.succeeded is True
    status = done["status"]
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert (status["tasks"]["total"], status["tasks"]["succeeded"]) == (2, 2)
    planned = condition(done, "Planned")
    assert (planned["status"], planned["reason"]) == ("True", "PlanGenerated"), planned
    assert "2 tasks in 1 epics" in planned["message"]
    tasks = {
        r.task: r for r in jobs.values() if r.component == "agent" and r.name.startswith("notes")
    }
    assert set(tasks) == {"notes-store", "notes-export"}
    assert planner.ended is not None
    assert all(r.created > planner.ended for r in tasks.values())  # after the plan was loaded
    bare = git_server.bare_path(name)
    assert git(bare, "show", "yokeflow/notes/integration:store.txt") == "stored"
    assert git(bare, "show", "yokeflow/notes/integration:export.txt") == "exported"
    # the planning session's cost counts in the run's, once
    spent, planning_cost, sessions = asyncio.run(_costs(operator.database_url, "notes"))
    assert planning_cost > 0
    assert sessions == (1, 1)  # one planning session (one round), its cost recorded once
    assert Decimal(str(status["costUsd"])) == spent

    broken_jobs = sorted(
        r.name for r in jobs.values() if r.component == "planner" and r.name.startswith("broken")
    )
    assert len(broken_jobs) == 2, broken_jobs  # retried once, as agent.retries says
    assert not [r for r in jobs.values() if r.component == "agent" and r.name.startswith("broken")]
    assert failed["status"]["phase"] == "Failed"
    for kind in ("Planned", "Ready"):
        found = condition(failed, kind)
        assert (found["status"], found["reason"]) == ("False", "PlanningFailed"), found
    message = condition(failed, "Planned")["message"]
    assert message.startswith("Planning failed after 2 attempts:"), message
    assert "scripted planner outage" in message, message
    assert message.endswith("."), message
    assert "\n" not in message


async def _costs(url: str, run: str) -> tuple[Decimal, Decimal, tuple[int, int]]:
    """The run's total cost, its planning cost, and (planning sessions, planning cost rows)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT c.operation, c.cost_usd FROM agent_costs c"
            " JOIN projects p ON p.id = c.project_id WHERE p.name LIKE $1",
            f"%/{run}@%",
        )
        sessions = await connection.fetchval(
            "SELECT count(*) FROM sessions s JOIN projects p ON p.id = s.project_id"
            " WHERE p.name LIKE $1 AND s.kind = 'planning'",
            f"%/{run}@%",
        )
    finally:
        await connection.close()
    planning_rows = sum(1 for r in rows if r["operation"] == "planning")
    total = sum((Decimal(r["cost_usd"]) for r in rows), Decimal(0))
    planning = sum(
        (Decimal(r["cost_usd"]) for r in rows if r["operation"] == "planning"), Decimal(0)
    )
    return total, planning, (int(sessions), planning_rows)
