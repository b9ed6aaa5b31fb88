"""Invalid ProjectRuns: the API server refuses what the schema can see; the operator turns the
rest into a ``Ready`` condition with one sentence; nothing crashes the operator."""

from __future__ import annotations

import copy
import json
import time
import urllib.request
from typing import Any

import pytest

from yokeflow.testing.controlplane import Kubectl

from .conftest import OperatorProcess

pytestmark = pytest.mark.controlplane


def valid_run(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": name},
        "spec": {
            "repository": {"url": "git://127.0.0.1/project.git"},
            "plan": {
                "name": "demo",
                "epics": [
                    {
                        "key": "core",
                        "name": "Core",
                        "tasks": [
                            {"key": "a", "title": "A"},
                            {"key": "b", "title": "B", "dependsOn": ["a"]},
                        ],
                    },
                    {
                        "key": "ui",
                        "name": "UI",
                        "dependsOn": ["core"],
                        "tasks": [{"key": "c", "title": "C"}],
                    },
                ],
            },
        },
    }


def edited(change: Any) -> dict[str, Any]:
    run = valid_run("refused")
    change(run)
    return run


REFUSED_BY_THE_SCHEMA = {
    "no repository": lambda r: r["spec"].pop("repository"),
    "repository url of the wrong type": lambda r: r["spec"]["repository"].update(url=42),
    "unknown schedule": lambda r: r["spec"].update(parallel={"schedule": "sometimes"}),
    "maxConcurrency 0": lambda r: r["spec"].update(parallel={"maxConcurrency": 0}),
    "negative budget": lambda r: r["spec"].update(budget={"limitUsd": -5}),
    "oversized inline spec": lambda r: (
        r["spec"].pop("plan"),
        r["spec"].update(spec={"text": "x" * 300_000}),
    ),
    "both a spec and a plan": lambda r: r["spec"].update(spec={"text": "build it"}),
    "a task without a title": lambda r: r["spec"]["plan"]["epics"][0]["tasks"][0].pop("title"),
    "a task key with spaces": lambda r: r["spec"]["plan"]["epics"][0]["tasks"][0].update(
        key="a task"
    ),
    "an unknown field": lambda r: r["spec"].update(colour="blue"),
}


@pytest.mark.parametrize("case", list(REFUSED_BY_THE_SCHEMA))
def test_the_api_server_refuses(case: str, kubectl: Kubectl, namespace: str, crds: None) -> None:
    manifest = edited(REFUSED_BY_THE_SCHEMA[case])
    result = kubectl.attempt("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))
    assert result.returncode != 0, f"{case} was accepted"
    assert (
        "is invalid" in result.stderr
        or "unknown field" in result.stderr
        or "Required value" in result.stderr
    ), result.stderr


def cycle(run: dict[str, Any]) -> None:
    run["spec"]["plan"]["epics"][0]["tasks"][0]["dependsOn"] = ["b"]


def unknown_dependency(run: dict[str, Any]) -> None:
    run["spec"]["plan"]["epics"][0]["tasks"][1]["dependsOn"] = ["nowhere"]


def unknown_epic(run: dict[str, Any]) -> None:
    run["spec"]["plan"]["epics"][1]["dependsOn"] = ["backend"]


def duplicate_key(run: dict[str, Any]) -> None:
    run["spec"]["plan"]["epics"][1]["tasks"].append({"key": "a", "title": "A again"})


def missing_secret(run: dict[str, Any]) -> None:
    run["spec"]["agent"] = {"credentialsSecret": {"name": "model-key"}}


SURFACED_AS_A_CONDITION = {
    "cyclic-plan": (cycle, "CyclicPlan", "The plan's dependencies form a cycle: a -> b -> a."),
    "unknown-dependency": (
        unknown_dependency,
        "UnknownDependency",
        "Task 'b' depends on 'nowhere', which is not in the plan.",
    ),
    "unknown-epic": (
        unknown_epic,
        "UnknownEpicDependency",
        "Epic 'ui' depends on epic 'backend', which is not in the plan.",
    ),
    "duplicate-key": (
        duplicate_key,
        "DuplicateKey",
        "The plan is invalid: task key 'a' is used twice (epics[0].tasks[0] and epics[1].tasks[1]).",
    ),
    "missing-secret": (
        missing_secret,
        "MissingSecret",
        "Secret 'model-key' named by agent.credentialsSecret does not exist.",
    ),
}


def wait_for_ready_condition(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = kubectl.get("projectrun", name, "-n", namespace)
        for condition in run.get("status", {}).get("conditions", []):
            if condition["type"] == "Ready":
                return dict(run)
        time.sleep(0.3)
    raise AssertionError(f"projectrun {name} got no Ready condition in 60s")


def test_the_operator_surfaces_what_the_schema_cannot_see(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    for name, (change, _, _) in SURFACED_AS_A_CONDITION.items():
        run = copy.deepcopy(valid_run(name))
        change(run)
        kubectl.apply(run, "-n", namespace)
    kubectl.apply(valid_run("valid"), "-n", namespace)

    for name, (_, reason, message) in SURFACED_AS_A_CONDITION.items():
        run = wait_for_ready_condition(kubectl, namespace, name)
        ready = next(c for c in run["status"]["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == ("False", reason, message)
        expected_phase = "Pending" if reason == "MissingSecret" else "Failed"
        assert run["status"]["phase"] == expected_phase
        events = kubectl.get(
            "events",
            "-n",
            namespace,
            "--field-selector",
            f"involvedObject.name={name},reason={reason}",
        )
        assert events["items"], f"no {reason} event on {name}"

    valid = wait_for_ready_condition(kubectl, namespace, "valid")
    planned = next(c for c in valid["status"]["conditions"] if c["type"] == "Planned")
    assert (planned["status"], planned["reason"]) == ("True", "InlinePlanResolved")
    assert valid["status"]["progress"] == "0/3"
    assert operator.alive()
    with urllib.request.urlopen(operator.liveness_url, timeout=5) as answer:
        assert answer.status == 200


def test_a_missing_secret_created_later_lets_the_run_be_planned(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    run = valid_run("waits-for-secret")
    missing_secret(run)
    kubectl.apply(run, "-n", namespace)
    first = wait_for_ready_condition(kubectl, namespace, "waits-for-secret")
    assert first["status"]["conditions"][0]["reason"] == "MissingSecret"

    kubectl.run(
        "create", "secret", "generic", "model-key", "--from-literal=api-key=k", "-n", namespace
    )

    deadline = time.monotonic() + 60
    while True:
        current = kubectl.get("projectrun", "waits-for-secret", "-n", namespace)
        planned = next(c for c in current["status"]["conditions"] if c["type"] == "Planned")
        if planned["status"] == "True":
            break
        assert time.monotonic() < deadline, f"still {planned} 60s after the Secret was created"
        time.sleep(0.5)


def test_kubectl_get_projectruns_shows_the_columns(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    kubectl.apply(valid_run("columns"), "-n", namespace)
    wait_for_ready_condition(kubectl, namespace, "columns")

    table = kubectl.run("get", "projectruns", "-n", namespace)

    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "PHASE", "PROGRESS", "READY", "REASON", "COST", "AGE"]
    assert row.split()[:6] == ["columns", "Pending", "0/3", "False", "NotFinished", "0"]
