"""A task Job built by ``build_task_job`` runs for real on the process node: the pod clones the
git server's repository, ``yokeflow runner task`` runs the real CLI against the scripted model,
the agent reaches its task through the MCP task manager over HTTP with its task-scoped token, the
runner reports its session and cost there, and the pod pushes the task branch — also when the
task failed (exit 3). The termination message holds the runner's report."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.core.plan import parse_plan
from yokeflow.core.records import SessionStatus, TaskStatus
from yokeflow.specs.names import Owner, task_job_name
from yokeflow.specs.pods import PodSettings
from yokeflow.specs.task_job import EXIT_TASK_FAILED, build_task_job, build_task_secret
from yokeflow.testing.agents import scripted_model
from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.git_repos import git, make_repository
from yokeflow.testing.gitserver import GitServer
from yokeflow.testing.processnode import placement
from yokeflow.testing.processnode.pytest_plugin import RunningProcessNode
from yokeflow_mcp import Scope, SignedTokens

from .conftest import TOKEN_SECRET

pytestmark = [
    pytest.mark.controlplane,
    pytest.mark.postgres,
    pytest.mark.agent,
    pytest.mark.parametrize("pg_server", ["pg15"], indirect=True),
    pytest.mark.timeout(240),
]

MODEL = "claude-sonnet-4-5"

PLAN = """
name: notes
epics:
  - key: core
    name: Core
    tasks:
      - key: notes-store
        title: Store notes
        description: Write notes/store.py.
      - key: notes-export
        title: Export notes
        description: Write notes/export.py.
"""

SCENARIO = """
rules:
  - task: notes-store
    usage: {input_tokens: 3000, output_tokens: 400}
    turns:
      - tool: mcp__task-manager__start_task
        input: {}
      - tool: Write
        input: {file_path: "{cwd}/notes/store.py", content: "NOTES = []\\n"}
      - tool: mcp__task-manager__update_task_status
        input: {status: done}
      - text: "Stored."
  - task: notes-export
    turns:
      - tool: Write
        input: {file_path: "{cwd}/notes/export.py", content: "# half done\\n"}
      - error: {status: 500, message: "scripted outage LONG"}
""".replace("LONG", "and a very long explanation " * 2000)


def _wait_finished(kubectl: Kubectl, namespace: str, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = kubectl.get("pods", "-n", namespace, "-l", f"job-name={job}")
        for pod in found["items"]:
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                return dict(pod)
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish in 120 s")


def _terminated(pod: dict[str, Any]) -> dict[str, Any]:
    (agent,) = pod["status"]["containerStatuses"]
    return dict(agent["state"]["terminated"])


async def test_task_jobs_run_the_runner_push_their_branches_and_report(
    kubectl: Kubectl,
    namespace: str,
    process_node: RunningProcessNode,
    git_server: GitServer,
    store: PostgresStore,
    mcp_base: str,
    tmp_path: Path,
) -> None:
    project = await store.create_plan(parse_plan(PLAN, "notes.yaml"))
    repo_name = f"notes-{namespace}"
    url = git_server.publish(make_repository(tmp_path / "source"), repo_name)
    base_commit = git_server.branches(repo_name)["main"]
    spec = ProjectRunSpec.model_validate({"repository": {"url": url}, "spec": {"text": "Notes."}})
    owner = _owner(kubectl, namespace)
    tokens = SignedTokens(TOKEN_SECRET.encode())

    with scripted_model(SCENARIO) as model:
        settings = PodSettings(
            image="unused",
            mcp_url=f"{mcp_base}/mcp",
            model_endpoint=model.url,
            node_selector=placement()["nodeSelector"],
            tolerations=tuple(placement()["tolerations"]),
        )
        for key in ("notes-store", "notes-export"):
            task_id = project.task_ids[key]
            token = tokens.issue(
                Scope(project.project.id, task_id, f"job:{key}"), expires_at=time.time() + 600
            )
            task = BatchTask(key=key, title=key, epic="core", model=MODEL, branch=f"notes/{key}")
            secret = build_task_secret(
                run="notes",
                namespace=namespace,
                batch=owner,
                batch_number=1,
                task=key,
                attempt=1,
                mcp_url=settings.mcp_url,
                token=token,
                plan_yaml=PLAN,
            )
            job = build_task_job(
                run="notes",
                namespace=namespace,
                spec=spec,
                batch=owner,
                batch_number=1,
                task=task,
                attempt=1,
                base_commit=base_commit,
                integration_branch="main",
                settings=settings,
            )
            kubectl.apply(secret, "-n", namespace)
            kubectl.apply(job, "-n", namespace)
        done = _wait_finished(kubectl, namespace, task_job_name("notes", "notes-store", 1))
        failed = _wait_finished(kubectl, namespace, task_job_name("notes", "notes-export", 1))

    # The finished task: its branch holds the agent's commit on top of the integration commit.
    ended = _terminated(done)
    assert ended["exitCode"] == 0, ended
    report = json.loads(ended["message"])
    assert report["success"] is True
    assert report["cost_recorded"] is True
    branches = git_server.branches(repo_name)
    bare = git_server.bare_path(repo_name)
    assert branches["notes/notes-store"] == report["commit"]
    assert git(bare, "rev-parse", "notes/notes-store~1") == base_commit
    assert git(bare, "show", "notes/notes-store:notes/store.py") == "NOTES = []"
    assert branches["main"] == base_commit  # merging is the merge Job's work
    # The store: the agent marked its task done over MCP; the runner reported session and cost.
    store_task = await store.get_task(project.task_ids["notes-store"])
    assert store_task is not None
    assert store_task.status is TaskStatus.DONE
    (session,) = await store.list_sessions(project.project.id, task_id=store_task.id)
    assert session.status is SessionStatus.SUCCEEDED
    assert session.id == report["session_id"]
    costs = [
        c for c in await store.list_agent_costs(project.project.id) if c.task_id == store_task.id
    ]
    assert [c.session_id for c in costs] == [session.id]
    assert costs[0].cost_usd == Decimal(report["cost_usd"]).quantize(Decimal("0.000001"))
    assert costs[0].cost_usd > 0
    assert costs[0].input_tokens > 0

    # The failed task: exit 3, its unfinished work pushed all the same, the failure recorded.
    ended = _terminated(failed)
    assert ended["exitCode"] == EXIT_TASK_FAILED, ended
    assert len(ended["message"].encode()) <= 4096  # the huge error was cut on purpose
    report = json.loads(ended["message"])
    assert report["success"] is False
    assert report["truncated"] is True
    assert "scripted outage" in report["error"]
    assert git(bare, "show", "notes/notes-export:notes/export.py") == "# half done"
    assert git(bare, "rev-parse", "notes/notes-export~1") == base_commit
    export_id = project.task_ids["notes-export"]
    (session,) = await store.list_sessions(project.project.id, task_id=export_id)
    assert session.status is SessionStatus.FAILED
    assert session.error is not None
    assert "scripted outage" in session.error


def _owner(kubectl: Kubectl, namespace: str) -> Owner:
    """A real object to own the Jobs (a missing owner would have them collected as garbage)."""
    kubectl.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "batch-owner"}},
        "-n",
        namespace,
    )
    found = kubectl.get("configmap", "batch-owner", "-n", namespace)
    return Owner("v1", "ConfigMap", "batch-owner", found["metadata"]["uid"])
