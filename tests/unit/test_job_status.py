"""Reading a Job and its pods into what the operator needs to know."""

from __future__ import annotations

from typing import Any

from yokeflow.adapters.kube.job_status import job_name_of_pod, sight


def job(status: dict[str, Any], suspend: bool = False) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "t-1",
            "labels": {"yokeflow.io/task": "a"},
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"suspend": suspend},
        "status": status,
    }


def pod(
    phase: str, created: str, terminated: dict[str, Any] | None = None, init_failed: bool = False
) -> dict[str, Any]:
    state: dict[str, Any] = {"terminated": terminated} if terminated else {"running": {}}
    status: dict[str, Any] = {
        "phase": phase,
        "containerStatuses": [{"name": "agent", "state": state}],
    }
    if init_failed:
        status["containerStatuses"] = [
            {"name": "agent", "state": {"waiting": {"reason": "PodInitializing"}}}
        ]
        status["initContainerStatuses"] = [
            {"name": "clone", "state": {"terminated": {"exitCode": 128, "message": "clone failed"}}}
        ]
    return {
        "metadata": {
            "creationTimestamp": created,
            "labels": {"batch.kubernetes.io/job-name": "t-1"},
        },
        "status": status,
    }


def condition(kind: str, reason: str = "", message: str = "") -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-01-01T00:05:00Z",
    }


def test_a_complete_job_succeeded_with_its_report() -> None:
    seen = sight(
        job(
            {
                "conditions": [condition("SuccessCriteriaMet"), condition("Complete")],
                "completionTime": "T",
            }
        ),
        [pod("Succeeded", "1", {"exitCode": 0, "message": '{"cost": "0.1"}'})],
    )
    assert (seen.state, seen.exit_code, seen.termination_message) == (
        "succeeded",
        0,
        '{"cost": "0.1"}',
    )
    assert seen.finished_at == "T"


def test_a_failed_job_carries_the_controllers_reason_and_the_newest_pods_end() -> None:
    seen = sight(
        job(
            {
                "conditions": [
                    condition(
                        "Failed",
                        "DeadlineExceeded",
                        "Job was active longer than specified deadline",
                    )
                ]
            }
        ),
        [
            pod("Failed", "2026-01-01T00:02:00Z", {"exitCode": 2, "message": "newest"}),
            pod("Failed", "2026-01-01T00:01:00Z", {"exitCode": 1, "message": "older"}),
        ],
    )
    assert seen.state == "failed"
    assert seen.reason == "DeadlineExceeded"
    assert seen.message == "Job was active longer than specified deadline"
    assert (seen.exit_code, seen.termination_message) == (2, "newest")


def test_a_failed_init_container_is_the_reason_when_the_job_names_none() -> None:
    seen = sight(
        job({"conditions": [condition("FailureTarget")]}), [pod("Failed", "1", init_failed=True)]
    )
    assert (seen.state, seen.reason, seen.exit_code) == ("failed", "InitContainerFailed", 128)


def test_a_suspended_job_is_queued_and_a_running_pod_is_running() -> None:
    assert sight(job({}, suspend=True), []).state == "queued"
    assert sight(job({"active": 1}), [pod("Pending", "1")]).state == "pending"
    assert sight(job({"active": 1}), [pod("Running", "1")]).state == "running"
    assert sight(job({}), []).state == "pending"


def test_pods_name_their_job_by_either_label() -> None:
    assert job_name_of_pod({"metadata": {"labels": {"job-name": "x"}}}) == "x"
    assert job_name_of_pod({"metadata": {"labels": {"batch.kubernetes.io/job-name": "y"}}}) == "y"
    assert job_name_of_pod({"metadata": {}}) is None
