"""Jobs on the real control plane: scheduled onto kwok nodes, completed or failed by kwok's
Stages, and garbage-collected with their Job."""

from __future__ import annotations

import time
from typing import Any

import pytest

from yokeflow.testing.controlplane import FAIL_LABEL, Kubectl

pytestmark = pytest.mark.controlplane


def job(name: str, backoff_limit: int = 0, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A minimal batch/v1 Job (the image is never pulled: kwok plays the kubelet)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {
                "metadata": {"labels": labels or {}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "work", "image": "busybox:1.36", "command": ["true"]}],
                },
            },
        },
    }


def pods_of(kubectl: Kubectl, namespace: str, job_name: str) -> list[dict[str, Any]]:
    found = kubectl.get("pods", "-n", namespace, "-l", f"job-name={job_name}")
    items: list[dict[str, Any]] = found["items"]
    return items


def test_a_job_completes_on_a_kwok_node(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(job("succeeds"), "-n", namespace)

    kubectl.run(
        "wait", "--for=condition=Complete", "job/succeeds", "-n", namespace, "--timeout=90s"
    )

    finished = kubectl.get("job", "succeeds", "-n", namespace)
    assert finished["status"]["succeeded"] == 1
    (pod,) = pods_of(kubectl, namespace, "succeeds")
    assert pod["spec"]["nodeName"].startswith("kwok-node-")
    assert pod["status"]["phase"] == "Succeeded"
    (container,) = pod["status"]["containerStatuses"]
    assert container["state"]["terminated"]["exitCode"] == 0


def test_a_labelled_job_fails_after_its_backoff_limit(kubectl: Kubectl, namespace: str) -> None:
    key, value = FAIL_LABEL
    kubectl.apply(job("fails", backoff_limit=1, labels={key: value}), "-n", namespace)

    kubectl.run("wait", "--for=condition=Failed", "job/fails", "-n", namespace, "--timeout=120s")

    failed = kubectl.get("job", "fails", "-n", namespace)
    conditions = {c["type"]: c for c in failed["status"]["conditions"]}
    assert conditions["Failed"]["reason"] == "BackoffLimitExceeded"
    # backoffLimit 1: the first pod fails, one retry fails, and then the Job gives up.
    assert failed["status"]["failed"] == 2
    pods = pods_of(kubectl, namespace, "fails")
    assert [p["status"]["phase"] for p in pods] == ["Failed", "Failed"]
    exit_codes = {
        p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] for p in pods
    }
    assert exit_codes == {1}


def test_deleting_a_job_garbage_collects_its_pods(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(job("collected"), "-n", namespace)
    kubectl.run(
        "wait", "--for=condition=Complete", "job/collected", "-n", namespace, "--timeout=90s"
    )
    assert len(pods_of(kubectl, namespace, "collected")) == 1

    # Background propagation: the Job goes at once and the garbage collector removes the pods.
    kubectl.run("delete", "job", "collected", "-n", namespace, "--cascade=background")

    deadline = time.monotonic() + 60
    while pods_of(kubectl, namespace, "collected"):
        assert time.monotonic() < deadline, "the Job's pods were not garbage-collected in 60s"
        time.sleep(0.5)
    assert kubectl.attempt("get", "job", "collected", "-n", namespace).returncode != 0
