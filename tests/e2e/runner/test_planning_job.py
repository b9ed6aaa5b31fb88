"""A planning Job built by ``build_planning_job`` runs ``yokeflow runner plan`` for real on the
process node: the planning agent (the real CLI against the scripted model) writes epics and
tasks through the MCP task manager over HTTP with a run-scoped token, the runner reports its
session and cost there, reads the plan back and reports the counts in its termination message."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.api.v1alpha1 import ProjectRunSpec
from yokeflow.core.records import SessionStatus
from yokeflow.specs.names import Owner, planning_job_name
from yokeflow.specs.planning_job import build_planning_job, build_planning_secret
from yokeflow.specs.pods import PodSettings
from yokeflow.testing.agents import scripted_model
from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.git_repos import make_repository
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

SCENARIO = """
rules:
  - task: planning
    usage: {input_tokens: 5000, output_tokens: 700}
    turns:
      - tool: mcp__task-manager__create_epic
        input: {name: Notes, key: notes}
      - tool: mcp__task-manager__create_task
        input: {epic: notes, key: notes-store, title: Store notes}
      - tool: mcp__task-manager__create_task
        input: {epic: notes, key: notes-export, title: Export notes, depends_on: [notes-store]}
      - text: "Planned."
"""


def _finished(kubectl: Kubectl, namespace: str, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for pod in kubectl.get("pods", "-n", namespace, "-l", f"job-name={job}")["items"]:
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                (planner,) = pod["status"]["containerStatuses"]
                return dict(planner["state"]["terminated"])
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish in 120 s")


async def test_a_planning_job_writes_the_plan_through_the_task_manager(
    kubectl: Kubectl,
    namespace: str,
    process_node: RunningProcessNode,
    git_server: GitServer,
    store: PostgresStore,
    mcp_base: str,
    tmp_path: Path,
) -> None:
    project = await store.create_project("notes-run")
    url = git_server.publish(make_repository(tmp_path / "source"), f"plan-{namespace}")
    spec = ProjectRunSpec.model_validate(
        {"repository": {"url": url}, "spec": {"text": "A notes app: store notes, export them."}}
    )
    kubectl.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "run-owner"}},
        "-n",
        namespace,
    )
    uid = kubectl.get("configmap", "run-owner", "-n", namespace)["metadata"]["uid"]
    owner = Owner("v1", "ConfigMap", "run-owner", uid)
    token = SignedTokens(TOKEN_SECRET.encode()).issue(
        Scope(project.id, None, "planner"), expires_at=time.time() + 600
    )

    with scripted_model(SCENARIO) as model:
        settings = PodSettings(
            image="unused",
            mcp_url=f"{mcp_base}/mcp",
            model_endpoint=model.url,
            node_selector=placement()["nodeSelector"],
            tolerations=tuple(placement()["tolerations"]),
        )
        secret = build_planning_secret(
            run="notes",
            namespace=namespace,
            owner=owner,
            attempt=1,
            spec=spec,
            mcp_url=settings.mcp_url,
            token=token,
        )
        job = build_planning_job(
            run="notes",
            namespace=namespace,
            spec=spec,
            owner=owner,
            attempt=1,
            model="claude-sonnet-4-5",
            settings=settings,
        )
        kubectl.apply(secret, "-n", namespace)
        kubectl.apply(job, "-n", namespace)
        ended = _finished(kubectl, namespace, planning_job_name("notes", 1))

    assert ended["exitCode"] == 0, ended
    report = json.loads(ended["message"])
    assert report["success"] is True
    assert (report["epics"], report["tasks_created"], report["rounds"]) == (1, 2, 1)
    tasks = {t.key: t for t in await store.get_tasks_with_dependencies(project.id)}
    assert set(tasks) == {"notes-store", "notes-export"}
    assert [d for d in tasks["notes-export"].depends_on] == [tasks["notes-store"].id]
    (session,) = await store.list_sessions(project.id)
    assert (session.kind, session.status) == ("planning", SessionStatus.SUCCEEDED)
    (cost,) = await store.list_agent_costs(project.id)
    assert cost.session_id == session.id
    assert cost.operation == "planning"
    assert cost.cost_usd == Decimal(report["cost_usd"]).quantize(Decimal("0.000001"))
    assert cost.cost_usd > 0
