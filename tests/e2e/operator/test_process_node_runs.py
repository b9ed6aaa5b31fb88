"""ProjectRuns whose task Jobs run for real on the process node: the runner, the real CLI
against the scripted model, the agent's task tools over HTTP with its token. A failing runner is
retried as the run says, then fails the run with its reason in a condition; its dependents are
blocked; ``failFast`` starts nothing more. The operator SIGKILLed during a task Job and during a
merge Job resumes: no Job is created twice, no commit is lost or merged twice."""

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
from yokeflow.testing.processnode import placement
from yokeflow.testing.processnode.pytest_plugin import RunningProcessNode

from .conftest import OperatorProcess
from .runs import JobRecord, JobWatcher, condition, project_run, wait_for_phase

pytestmark = [pytest.mark.controlplane, pytest.mark.agent, pytest.mark.timeout(420)]

SCENARIO = """
rules:
  - task: broken
    turns:
      - error: {status: 500, message: "scripted outage"}
"""


def failing_run(name: str, url: str, **spec: Any) -> dict[str, Any]:
    tasks = [
        {"key": "broken", "title": "Break", "description": "The model is down for this one."},
        {"key": "after", "title": "Follow", "dependsOn": ["broken"]},
    ]
    if spec.pop("with_other", False):
        tasks.append({"key": "other", "title": "Something else"})
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": name},
        "spec": {
            "repository": {"url": url},
            "plan": {"name": "failing", "epics": [{"key": "core", "name": "Core", "tasks": tasks}]},
            "parallel": {"maxConcurrency": 1, **spec.pop("parallel", {})},
            **spec,
        },
    }


def on_the_process_node(model_url: str) -> dict[str, str]:
    where = placement()
    return {
        "YOKEFLOW_AGENT_MODEL_ENDPOINT": model_url,
        "YOKEFLOW_OPERATOR_POD_NODE_SELECTOR": json.dumps(where["nodeSelector"]),
        "YOKEFLOW_OPERATOR_POD_TOLERATIONS": json.dumps(where["tolerations"]),
    }


def test_a_failing_runner_is_retried_then_fails_the_run_and_blocks_its_dependents(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    url = git_server.publish(make_repository(tmp_path / "source"), f"failing-{namespace}")
    retried = failing_run(
        "retried", url, agent={"retries": {"maxAttempts": 2, "backoffSeconds": 0}}
    )
    fast = failing_run(
        "fast",
        url,
        with_other=True,
        parallel={"failFast": True},
        agent={"retries": {"maxAttempts": 1}},
    )

    with (
        scripted_model(SCENARIO) as model,
        operator.reconfigured(on_the_process_node(model.url)),
        JobWatcher(kubectl, namespace) as watcher,
    ):
        kubectl.apply(retried, "-n", namespace)
        kubectl.apply(fast, "-n", namespace)
        done = wait_for_phase(kubectl, namespace, "retried", {"Succeeded", "Failed"}, 300)
        stopped = wait_for_phase(kubectl, namespace, "fast", {"Succeeded", "Failed"}, 300)
    jobs, creations, _ = watcher.snapshot()

    def task_jobs(run: str) -> list[str]:
        return sorted(
            f"{r.task}#{r.name}"
            for r in jobs.values()
            if r.component == "agent" and r.name.startswith(run)
        )

    assert len(creations) == len(set(creations))
    retried_jobs = task_jobs("retried")
    assert [j.split("#")[0] for j in retried_jobs] == ["broken", "broken"], retried_jobs
    assert all(r.succeeded is False for r in jobs.values() if r.component == "agent")
    status = done["status"]
    assert status["phase"] == "Failed", status
    assert (status["tasks"]["failed"], status["tasks"]["blocked"]) == (1, 1), status["tasks"]
    degraded = condition(done, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "TaskFailed")
    assert "'broken' failed" in degraded["message"], degraded
    assert "scripted outage" in degraded["message"], degraded
    ready = condition(done, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "TasksFailed")

    assert [j.split("#")[0] for j in task_jobs("fast")] == ["broken"]
    assert stopped["status"]["phase"] == "Failed"
    assert "fail-fast" in condition(stopped, "Ready")["message"]
    assert stopped["status"]["tasks"]["pending"] + stopped["status"]["tasks"]["blocked"] == 2


# 3 epics / 8 tasks with a short critical path (models -> parse -> print): every real session
# and merge Job on it costs seconds of this machine.
SHORT_EPICS = [
    {
        "key": "core",
        "name": "Core",
        "tasks": [
            {"key": "models", "title": "Write the models"},
            {"key": "store", "title": "Write the store", "dependsOn": ["models"]},
            {"key": "api", "title": "Write the API", "dependsOn": ["models"]},
        ],
    },
    {
        "key": "cli",
        "name": "Command line",
        "tasks": [
            {"key": "parse", "title": "Parse arguments", "dependsOn": ["models"]},
            {"key": "print", "title": "Print results", "dependsOn": ["parse"]},
        ],
    },
    {
        "key": "docs",
        "name": "Docs",
        "tasks": [
            {"key": "readme", "title": "Write the README"},
            {"key": "guide", "title": "Write the guide"},
            {"key": "faq", "title": "Write the FAQ", "dependsOn": ["readme"]},
        ],
    },
]
SHORT_DEPENDS = {
    "models": set(),
    "store": {"models"},
    "api": {"models"},
    "parse": {"models"},
    "print": {"parse"},
    "readme": set(),
    "guide": set(),
    "faq": {"readme"},
}


def working_scenario() -> str:
    rules = []
    for key in SHORT_DEPENDS:
        rules.append(
            f"""  - task: {key}
    usage: {{input_tokens: 2000, output_tokens: 300}}
    turns:
      - tool: mcp__task-manager__start_task
        input: {{}}
      - tool: Write
        input: {{file_path: "{{cwd}}/work/{key}.txt", content: "{key} done\\n"}}
      - tool: mcp__task-manager__update_task_status
        input: {{status: done}}
      - text: "Done with {key}."
"""
        )
    return "rules:\n" + "".join(rules)


def test_a_run_on_the_process_node_merges_every_task_onto_the_integration_branch(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    name = f"real-{namespace}"
    url = git_server.publish(make_repository(tmp_path / "source"), name)
    run = project_run("real", url, parallel={"maxConcurrency": 3})
    run["spec"]["plan"]["epics"] = SHORT_EPICS

    with (
        scripted_model(working_scenario()) as model,
        operator.reconfigured(on_the_process_node(model.url)),
        JobWatcher(kubectl, namespace) as watcher,
    ):
        kubectl.apply(run, "-n", namespace)
        done = wait_for_phase(kubectl, namespace, "real", {"Succeeded", "Failed"}, 400)
    jobs, creations, peak = watcher.snapshot()

    status = done["status"]
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert (status["tasks"]["succeeded"], status["progress"]) == (8, "8/8")
    assert len(creations) == len(set(creations))
    assert 1 <= peak <= 3
    tasks = {r.task: r for r in jobs.values() if r.component == "agent"}
    merged_by = {key: m for m in jobs.values() if m.component == "merge" for key in m.merging}
    assert set(tasks) == set(SHORT_DEPENDS) == set(merged_by)
    for key, record in tasks.items():
        for dependency in SHORT_DEPENDS[key]:
            landed = merged_by[dependency].ended
            assert landed is not None
            assert landed < record.created, f"{key} started before {dependency} was merged"
    # The integration branch on the git server holds every task's work.
    integration = "yokeflow/real/integration"
    branches = git_server.branches(name)
    assert status["integrationCommit"] == branches[integration]
    bare = git_server.bare_path(name)
    for key in SHORT_DEPENDS:
        assert git(bare, "show", f"{integration}:work/{key}.txt") == f"{key} done"
        assert f"yokeflow/real/task/{key}" in branches
    # The cost is what the runners reported, once each.
    cost = Decimal(str(status["costUsd"]))
    assert cost > 0
    recorded = asyncio.run(_recorded_cost(operator.database_url))
    assert cost == recorded
    # Each TaskBatch lists its tasks' Jobs, phases and costs; they add up to the run's cost.
    batches = kubectl.get("taskbatches", "-n", namespace, "-l", "yokeflow.io/project-run=real")[
        "items"
    ]
    listed = {t["key"]: t for b in batches for t in b["status"]["tasks"]}
    assert set(listed) == set(SHORT_DEPENDS)
    for key, entry in listed.items():
        assert entry["jobName"] == tasks[key].name, entry
        assert entry["state"] == "Succeeded", entry
        assert Decimal(str(entry["costUsd"])) > 0, entry
    for batch in batches:
        spent = sum(Decimal(str(t["costUsd"])) for t in batch["status"]["tasks"])
        assert Decimal(str(batch["status"]["costUsd"])) == spent
    assert sum(Decimal(str(t["costUsd"])) for t in listed.values()) == cost


async def _recorded_cost(url: str) -> Decimal:
    connection = await asyncpg.connect(url)
    try:
        total = await connection.fetchval(
            "SELECT coalesce(sum(c.cost_usd), 0) FROM agent_costs c"
            " JOIN projects p ON p.id = c.project_id WHERE p.name LIKE '%/real@%'"
        )
        return Decimal(total)
    finally:
        await connection.close()


KILL_EPICS = [
    {
        "key": "core",
        "name": "Core",
        "tasks": [
            {"key": "models", "title": "Write the models"},
            {"key": "store", "title": "Write the store", "dependsOn": ["models"]},
            {"key": "readme", "title": "Write the README"},
        ],
    },
]


def _await_job(
    watcher: JobWatcher, component: str, seen: set[str], timeout: float = 180
) -> JobRecord:
    """The first ``component`` Job not in ``seen`` that the API shows running (created, not
    ended)."""
    deadline = time.monotonic() + timeout
    while True:
        jobs, _, _ = watcher.snapshot()
        for record in jobs.values():
            if record.component == component and record.ended is None and record.name not in seen:
                return record
        assert time.monotonic() < deadline, f"no running {component} Job in {timeout:g}s: {jobs}"
        time.sleep(0.1)


def test_the_operator_killed_during_a_task_job_and_a_merge_job_loses_no_commit(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    name = f"kill-{namespace}"
    url = git_server.publish(make_repository(tmp_path / "source"), name)
    run = project_run("kill", url, parallel={"maxConcurrency": 2})
    run["spec"]["plan"]["epics"] = KILL_EPICS
    keys = [t["key"] for t in KILL_EPICS[0]["tasks"]]

    with scripted_model(working_scenario()) as model:
        env = on_the_process_node(model.url)
        with operator.reconfigured(env), JobWatcher(kubectl, namespace) as watcher:
            kubectl.apply(run, "-n", namespace)
            try:
                task = _await_job(watcher, "agent", set())
                operator.kill()  # while a runner works and pushes its task branch
                operator.restart(env)
                merge = _await_job(watcher, "merge", set())
                operator.kill()  # while a merge Job merges and pushes the integration branch
                operator.restart(env)
            finally:
                if not operator.alive():
                    operator.restart(env)
            done = wait_for_phase(kubectl, namespace, "kill", {"Succeeded", "Failed"}, 300)
        jobs, creations, _ = watcher.snapshot()

    status = done["status"]
    killed = f"killed during {task.name} and {merge.name}"
    assert status["phase"] == "Succeeded", (killed, json.dumps(status, indent=1))
    assert status["progress"] == "3/3"
    assert len(creations) == len(set(creations)), f"a Job was created twice ({killed})"
    assert sorted(r.task or "" for r in jobs.values() if r.component == "agent") == sorted(keys)
    # Every task's commit is on the git server's integration branch, merged exactly once.
    integration = "yokeflow/kill/integration"
    branches = git_server.branches(name)
    assert status["integrationCommit"] == branches[integration]
    bare = git_server.bare_path(name)
    for key in keys:
        head = branches[f"yokeflow/kill/task/{key}"]
        assert git(bare, "show", f"{integration}:work/{key}.txt") == f"{key} done"
        assert git(bare, "merge-base", "--is-ancestor", head, integration) == ""
        merges = git(
            bare, "log", "--format=%H", f"--grep=Yokeflow-Task-Commit: {head}", integration
        ).split()
        assert len(merges) == 1, f"{key} ({head}) merged {len(merges)} times ({killed})"
