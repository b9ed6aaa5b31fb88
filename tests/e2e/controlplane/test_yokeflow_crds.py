"""YokeFlow's generated CRDs on the real API server: accepted, explained, defaulted, shown in
columns, and refusing what they forbid with a clear message — no webhook involved.

Rejections are checked with `kubectl apply --dry-run=server`: the API server runs its whole
validation (schema, CEL rules, list keys) and stores nothing.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from yokeflow.crdgen import crd_files
from yokeflow.testing.controlplane import Kubectl

pytestmark = pytest.mark.controlplane

ROOT = Path(__file__).resolve().parents[3]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def yokeflow_crds(kubectl: Kubectl) -> Iterator[list[str]]:
    """The CRDs from `crds/`, installed and served for this module."""
    names = []
    for relative in sorted(crd_files()):
        crd = yaml.safe_load((ROOT / relative).read_text())
        kubectl.apply(crd)
        names.append(crd["metadata"]["name"])
    for name in names:
        kubectl.run("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
        deadline = time.monotonic() + 30
        while kubectl.attempt("get", name, "-A").returncode != 0:
            assert time.monotonic() < deadline, f"{name} not served 30s after Established"
            time.sleep(0.2)
    yield names
    for name in names:
        # Objects other tests left behind may hold the finalizer of an operator that is gone;
        # the CRD's deletion would wait for them forever.
        kubectl.drop_finalizers(name, "-A")
        kubectl.run("delete", "crd", name, "--timeout=60s")


def project_run(name: str = "todo", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "repository": {"url": "https://git.example.com/acme/todo.git"},
        "plan": {
            "name": "todo",
            "epics": [
                {
                    "key": "api",
                    "name": "API",
                    "tasks": [
                        {"key": "list", "title": "GET /tasks"},
                        {"key": "create", "title": "POST /tasks", "dependsOn": ["list"]},
                    ],
                }
            ],
        },
    }
    body.update(spec)
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": name},
        "spec": {k: v for k, v in body.items() if v is not None},
    }


def task_batch(**spec: Any) -> dict[str, Any]:
    body = {
        "projectRun": "todo",
        "number": 1,
        "baseCommit": COMMIT,
        "tasks": [
            {"key": "list", "title": "GET /tasks", "epic": "api", "model": "m", "branch": "b/list"}
        ],
        **spec,
    }
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "TaskBatch",
        "metadata": {"name": "todo-1"},
        "spec": {k: v for k, v in body.items() if v is not None},
    }


def _edit(manifest: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    edited = copy.deepcopy(manifest)
    change(edited["spec"])
    return edited


def _tasks(count: int) -> list[dict[str, Any]]:
    return [{"key": f"t{i}", "title": f"task {i}"} for i in range(count)]


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("missing repository", project_run(repository=None), "spec.repository: Required value"),
    (
        "missing repository url",
        project_run(repository={"baseBranch": "main"}),
        "spec.repository.url: Required value",
    ),
    (
        "a repository url that is no git url",
        project_run(repository={"url": "not a url"}),
        "spec.repository.url: Invalid value",
    ),
    (
        "wrong type",
        project_run(parallel={"maxConcurrency": "three"}),
        'spec.parallel.maxConcurrency: Invalid value: "string"',
    ),
    (
        "bad enum",
        project_run(parallel={"schedule": "random"}),
        'spec.parallel.schedule: Unsupported value: "random"',
    ),
    (
        "maxConcurrency 0",
        project_run(parallel={"maxConcurrency": 0}),
        "spec.parallel.maxConcurrency: Invalid value: 0",
    ),
    (
        "a negative budget",
        project_run(budget={"limitUsd": -5}),
        "spec.budget.limitUsd: Invalid value: -5",
    ),
    (
        "a bad budget action",
        project_run(budget={"action": "explode"}),
        'spec.budget.action: Unsupported value: "explode"',
    ),
    (
        "both spec and plan",
        project_run(spec={"text": "Build it."}),
        "set exactly one of spec (a text to plan) and plan (an inline plan)",
    ),
    (
        "neither spec nor plan",
        project_run(plan=None),
        "set exactly one of spec (a text to plan) and plan (an inline plan)",
    ),
    (
        "both spec text and a ConfigMap",
        project_run(plan=None, spec={"text": "x", "configMapRef": {"name": "s"}}),
        "set exactly one of spec.text and spec.configMapRef",
    ),
    (
        "an oversized inline spec",
        project_run(plan=None, spec={"text": "x" * 262145}),
        "spec.spec.text: Too long",
    ),
    (
        "an unknown field",
        project_run(parallel={"maxConcurency": 3}),
        'unknown field "spec.parallel.maxConcurency"',
    ),
    (
        "a task key with a space",
        _edit(project_run(), lambda s: s["plan"]["epics"][0]["tasks"][0].update(key="bad key")),
        "spec.plan.epics[0].tasks[0].key: Invalid value",
    ),
    (
        "a task key used twice in one epic",
        _edit(project_run(), lambda s: s["plan"]["epics"][0]["tasks"][1].update(key="list")),
        "spec.plan.epics[0].tasks[1]: Duplicate value",
    ),
    (
        "an epic without tasks",
        _edit(project_run(), lambda s: s["plan"]["epics"][0].update(tasks=[])),
        "spec.plan.epics[0].tasks: Invalid value",
    ),
    (
        "a plan without epics",
        _edit(project_run(), lambda s: s["plan"].update(epics=[])),
        "spec.plan.epics: Invalid value",
    ),
    (
        "too many tasks in an inline plan",
        _edit(
            project_run(),
            lambda s: s["plan"].update(
                epics=[{"key": f"e{e}", "name": "E", "tasks": _tasks(1000)} for e in range(2)]
                + [{"key": "e2", "name": "E", "tasks": _tasks(1)}]
            ),
        ),
        "an inline plan holds at most 2000 tasks",
    ),
    (
        "a resource quantity that is no quantity",
        project_run(agent={"resources": {"limits": {"cpu": "two"}}}),
        "spec.agent.resources.limits.cpu: Invalid value",
    ),
    (
        "zero attempts",
        project_run(agent={"retries": {"maxAttempts": 0}}),
        "spec.agent.retries.maxAttempts: Invalid value: 0",
    ),
    (
        "a Kueue queue name that is no label",
        project_run(queueName="Not_A_Queue"),
        "spec.queueName: Invalid value",
    ),
    (
        "a Secret name that is no object name",
        project_run(repository={"url": "https://h/r.git", "credentialsSecret": {"name": "A B"}}),
        "spec.repository.credentialsSecret.name: Invalid value",
    ),
    ("a batch without a base commit", task_batch(baseCommit=None), "spec.baseCommit: Required"),
    ("a batch with a branch name as commit", task_batch(baseCommit="main"), "spec.baseCommit"),
    ("a batch numbered 0", task_batch(number=0), "spec.number: Invalid value: 0"),
    ("a batch without tasks", task_batch(tasks=[]), "spec.tasks: Invalid value"),
]


@pytest.mark.parametrize(
    ("manifest", "message"),
    [pytest.param(m, msg, id=case) for case, m, msg in INVALID],
)
def test_an_invalid_manifest_is_refused_with_a_clear_message(
    kubectl: Kubectl,
    namespace: str,
    yokeflow_crds: list[str],
    manifest: dict[str, Any],
    message: str,
) -> None:
    refused = kubectl.attempt(
        "apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=json.dumps(manifest)
    )

    assert refused.returncode != 0, f"accepted: {refused.stdout}"
    assert message in refused.stderr


@pytest.mark.parametrize(
    "path", sorted((ROOT / "examples/projectrun").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_example_is_accepted(
    kubectl: Kubectl, namespace: str, yokeflow_crds: list[str], path: Path
) -> None:
    kubectl.run("apply", "--dry-run=server", "-n", namespace, "-f", str(path))


def test_a_valid_run_is_accepted_and_defaulted(
    kubectl: Kubectl, namespace: str, yokeflow_crds: list[str]
) -> None:
    kubectl.apply(project_run(), "-n", namespace)

    stored = kubectl.get("projectrun", "todo", "-n", namespace)
    assert stored["spec"]["parallel"] == {
        "maxConcurrency": 3,
        "schedule": "eager",
        "mergeStrategy": "merge",
        "failFast": False,
    }
    assert stored["spec"]["repository"]["baseBranch"] == "main"
    assert stored["spec"]["plan"]["epics"][0]["tasks"][0]["estimateMinutes"] == 1
    assert stored["spec"]["agent"]["retries"] == {"maxAttempts": 2, "backoffSeconds": 30}


def test_the_repository_of_a_run_cannot_change(
    kubectl: Kubectl, namespace: str, yokeflow_crds: list[str]
) -> None:
    kubectl.apply(project_run("fixed"), "-n", namespace)
    moved = project_run("fixed", repository={"url": "https://elsewhere.example.com/r.git"})

    refused = kubectl.attempt("apply", "-n", namespace, "-f", "-", stdin=json.dumps(moved))

    assert refused.returncode != 0
    assert "repository cannot change once a run exists" in refused.stderr


def test_kubectl_get_shows_the_columns_from_the_status(
    kubectl: Kubectl, namespace: str, yokeflow_crds: list[str]
) -> None:
    kubectl.apply(project_run("shown"), "-n", namespace)
    status = {
        "phase": "Running",
        "progress": "12/40",
        "costUsd": 3.5,
        "tasks": {"total": 40, "succeeded": 12, "running": 3},
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "TasksRunning",
                "message": "3 of 40 tasks are running.",
                "lastTransitionTime": "2026-12-03T10:00:00Z",
            }
        ],
    }
    kubectl.run(
        "patch",
        "projectrun",
        "shown",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status}),
    )

    table = kubectl.run("get", "projectruns", "-n", namespace, "shown").splitlines()
    assert table[0].split() == ["NAME", "PHASE", "PROGRESS", "READY", "REASON", "COST", "AGE"]
    assert table[1].split()[:6] == ["shown", "Running", "12/40", "False", "TasksRunning", "3.5"]
    # The short name and the category reach the same objects.
    assert "shown" in kubectl.run("get", "pr", "-n", namespace)
    assert "shown" in kubectl.run("get", "yokeflow", "-n", namespace)


def test_a_status_outside_the_schema_is_refused(
    kubectl: Kubectl, namespace: str, yokeflow_crds: list[str]
) -> None:
    kubectl.apply(project_run("strict"), "-n", namespace)

    refused = kubectl.attempt(
        "patch",
        "projectrun",
        "strict",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"phase": "Exploded"}}),
    )

    assert refused.returncode != 0
    assert 'status.phase: Unsupported value: "Exploded"' in refused.stderr


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("projectrun.spec.parallel.maxConcurrency", "At most this many task Jobs run"),
        ("projectrun.spec.budget", "The spending limit."),
        ("projectrun.status.conditions", "one-sentence message"),
        ("taskbatch.spec.baseCommit", "The integration commit the batch's tasks start from"),
    ],
)
def test_kubectl_explain_prints_the_models_docstrings(
    kubectl: Kubectl, yokeflow_crds: list[str], field: str, words: str
) -> None:
    explained = kubectl.run("explain", field)
    assert words in " ".join(explained.split())
