"""``spec.budget.limitUsd`` in a cluster, as in local mode: the run's recorded spend (what its
runners reported, scripted here) is checked before every launch; once the next task's estimate
no longer fits, no new Job starts, the running one finishes and is merged, and the run ends
``BudgetExhausted`` (phase, ``Ready`` and ``BudgetOk`` conditions). Raising the limit lets the
same run go on to the end. With ``action: cancel`` a running Job is stopped once the recorded
spend reached the limit."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path

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

pytestmark = [pytest.mark.controlplane, pytest.mark.agent, pytest.mark.timeout(420)]

KEYS = ("one", "two", "three", "four")


def scenario() -> str:
    # Each reply reports 50,000 input and 3,000 output tokens: on Sonnet ($3 / $15 per million)
    # $0.195 a reply, $0.39 a session of two replies.
    rules = "".join(
        f"""  - task: {key}
    usage: {{input_tokens: 50000, output_tokens: 3000}}
    turns:
      - tool: Write
        input: {{file_path: "{{cwd}}/{key}.txt", content: "{key}\\n"}}
      - text: "Wrote {key}."
"""
        for key in KEYS
    )
    return "rules:\n" + rules


def test_a_run_out_of_budget_starts_nothing_more_then_goes_on_when_the_limit_is_raised(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    name = f"budget-{namespace}"
    url = git_server.publish(make_repository(tmp_path / "source"), name)
    run = {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": "budget"},
        "spec": {
            "repository": {"url": url},
            "plan": {
                "name": "budget",
                "epics": [
                    {
                        "key": "core",
                        "name": "Core",
                        "tasks": [{"key": k, "title": f"Write {k}"} for k in KEYS],
                    }
                ],
            },
            "parallel": {"maxConcurrency": 2},
            "models": {"default": "claude-sonnet-4-5", "optimization": False},
            # The first launch reserves a typical Sonnet session ($0.51): one fits, two do not.
            # Then sessions are measured ($0.39): the second fits ($0.39 + $0.39 <= $1), a third
            # does not ($1.17): two tasks run, the second while launching already stopped.
            "budget": {"limitUsd": 1},
        },
    }

    with (
        scripted_model(scenario()) as model,
        operator.reconfigured(on_the_process_node(model.url)),
        JobWatcher(kubectl, namespace) as watcher,
    ):
        kubectl.apply(run, "-n", namespace)
        stopped = wait_for_phase(kubectl, namespace, "budget", {"BudgetExhausted", "Failed"}, 300)
        jobs, creations, _ = watcher.snapshot()
        status = stopped["status"]
        assert status["phase"] == "BudgetExhausted", json.dumps(status, indent=1)
        ready = condition(stopped, "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "BudgetExhausted")
        assert "budget exhausted" in ready["message"].lower(), ready
        budget_ok = condition(stopped, "BudgetOk")
        assert (budget_ok["status"], budget_ok["reason"]) == ("False", "BudgetExhausted")
        started = sorted(r.task or "" for r in jobs.values() if r.component == "agent")
        assert len(started) == 2, started
        assert len(creations) == len(set(creations))
        # what ran finished and was merged; what did not start waits
        assert (status["tasks"]["succeeded"], status["tasks"]["pending"]) == (2, 2)
        integration = "yokeflow/budget/integration"
        bare = git_server.bare_path(name)
        for key in started:
            assert git(bare, "show", f"{integration}:{key}.txt") == key
        spent = Decimal(str(status["costUsd"]))
        assert spent == asyncio.run(_recorded_cost(operator.database_url))
        assert Decimal("0.5") < spent <= Decimal("1")

        kubectl.run(
            "patch", "projectrun", "budget", "-n", namespace, "--type=merge",
            "-p", json.dumps({"spec": {"budget": {"limitUsd": 10}}}),
        )  # fmt: skip
        done = wait_for_phase(kubectl, namespace, "budget", {"Succeeded", "Failed"}, 300)
        jobs, creations, _ = watcher.snapshot()

    assert done["status"]["phase"] == "Succeeded", json.dumps(done["status"], indent=1)
    assert condition(done, "BudgetOk")["status"] == "True"
    assert sorted(r.task or "" for r in jobs.values() if r.component == "agent") == sorted(KEYS)
    assert len(creations) == len(set(creations))
    for key in KEYS:
        assert (
            git(git_server.bare_path(name), "show", f"yokeflow/budget/integration:{key}.txt") == key
        )


async def _recorded_cost(url: str) -> Decimal:
    connection = await asyncpg.connect(url)
    try:
        total = await connection.fetchval(
            "SELECT coalesce(sum(c.cost_usd), 0) FROM agent_costs c"
            " JOIN projects p ON p.id = c.project_id WHERE p.name LIKE '%/budget@%'"
        )
        return Decimal(total)
    finally:
        await connection.close()


CANCEL_SCENARIO = """
rules:
  - task: costly
    usage: {input_tokens: 400000, output_tokens: 10000}
    turns:
      - tool: Write
        input: {file_path: "{cwd}/costly.txt", content: "costly\\n"}
      - text: "Wrote costly."
  - task: slow
    delay_seconds: 120
    turns:
      - text: "Too late."
"""


def test_with_action_cancel_running_jobs_are_stopped_once_the_spend_reaches_the_limit(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    process_node: RunningProcessNode,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    name = f"cancel-{namespace}"
    url = git_server.publish(make_repository(tmp_path / "source"), name)
    tasks = [{"key": "costly", "title": "Spend a lot"}, {"key": "slow", "title": "Think long"}]
    run = {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": "capped"},
        "spec": {
            "repository": {"url": url},
            "plan": {"name": "capped", "epics": [{"key": "core", "name": "Core", "tasks": tasks}]},
            "parallel": {"maxConcurrency": 2},
            "models": {"default": "claude-sonnet-4-5", "optimization": False},
            # Both start (two typical Sonnet sessions, $1.02, fit); "costly" spends $2.70 a
            # session (two replies of $1.35), past the limit, while "slow" still thinks.
            "budget": {"limitUsd": 1.5, "action": "cancel"},
        },
    }

    with (
        scripted_model(CANCEL_SCENARIO) as model,
        operator.reconfigured(on_the_process_node(model.url)),
        JobWatcher(kubectl, namespace) as watcher,
    ):
        started = time.monotonic()
        kubectl.apply(run, "-n", namespace)
        stopped = wait_for_phase(kubectl, namespace, "capped", {"BudgetExhausted", "Failed"}, 110)
        took = time.monotonic() - started
        jobs, creations, _ = watcher.snapshot()

    status = stopped["status"]
    assert status["phase"] == "BudgetExhausted", json.dumps(status, indent=1)
    assert took < 110  # "slow" was stopped, not waited for (its model answers after 120 s)
    by_task = {r.task: r for r in jobs.values() if r.component == "agent"}
    assert set(by_task) == {"costly", "slow"}
    assert len(creations) == len(set(creations))  # "slow" was not started again
    assert by_task["slow"].succeeded is not True
    assert kubectl.attempt("get", "job", by_task["slow"].name, "-n", namespace).returncode != 0
    assert (status["tasks"]["succeeded"], status["tasks"]["running"]) == (1, 0)
    assert git(git_server.bare_path(name), "show", "yokeflow/capped/integration:costly.txt") == (
        "costly"
    )
    assert Decimal(str(status["costUsd"])) >= Decimal("1.5")
    events = kubectl.get(
        "events", "-n", namespace, "--field-selector", "involvedObject.name=capped"
    )
    assert any(
        e["reason"] == "BudgetExhausted" and "stopped 1 running Jobs" in e["message"]
        for e in events["items"]
    ), [e["message"] for e in events["items"]]
