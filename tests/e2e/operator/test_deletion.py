"""Deleting a ProjectRun stops its unfinished Jobs, then the operator's finalizer lets it go."""

from __future__ import annotations

import time
from typing import Any

import pytest

from yokeflow.specs.names import common_labels
from yokeflow.testing.controlplane import Kubectl

from .conftest import OperatorProcess
from .test_invalid_manifests import valid_run, wait_for_ready_condition

pytestmark = pytest.mark.controlplane


def held_job(name: str, run: str) -> dict[str, Any]:
    """A Job of the run that has not finished: held suspended, as Kueue holds one."""
    labels = common_labels(run, "agent")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "suspend": True,
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "agent", "image": "none", "command": ["true"]}],
                },
            },
        },
    }


def test_deleting_a_run_stops_its_jobs_and_the_finalizer_lets_go(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    kubectl.apply(valid_run("doomed"), "-n", namespace)
    wait_for_ready_condition(kubectl, namespace, "doomed")
    finalizers = kubectl.get("projectrun", "doomed", "-n", namespace)["metadata"]["finalizers"]
    assert "yokeflow.io/operator" in finalizers
    for name in ("doomed-a", "doomed-b"):
        kubectl.apply(held_job(name, "doomed"), "-n", namespace)
    kubectl.apply(held_job("other-run", "survivor"), "-n", namespace)

    kubectl.run("delete", "projectrun", "doomed", "-n", namespace, "--timeout=60s")

    assert kubectl.attempt("get", "projectrun", "doomed", "-n", namespace).returncode != 0
    deadline = time.monotonic() + 30
    while True:
        names = {j["metadata"]["name"] for j in kubectl.get("jobs", "-n", namespace)["items"]}
        if names == {"other-run"}:
            break
        assert time.monotonic() < deadline, f"jobs left: {names}"
        time.sleep(0.3)
    events = kubectl.get("events", "-n", namespace, "--field-selector", "reason=Cancelled")
    assert any("Stopped 2 unfinished Jobs" in e["message"] for e in events["items"])
