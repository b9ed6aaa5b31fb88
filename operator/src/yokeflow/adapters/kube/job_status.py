"""What a Job and its pods say about one task session: pure reading of raw API payloads.

A Job's own conditions decide its state (``Complete``/``SuccessCriteriaMet`` → succeeded,
``Failed``/``FailureTarget`` → failed with the Job controller's reason); a Job that Kueue keeps
suspended is *queued*. The newest pod adds what the Job does not carry: the agent container's exit
code and termination message, so a session whose own report was lost is still understood.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yokeflow.ports.jobs import JobSight, JobState

__all__ = ["job_name_of_pod", "sight"]

_SUCCESS = ("Complete", "SuccessCriteriaMet")
_FAILURE = ("Failed", "FailureTarget")


def job_name_of_pod(pod: Mapping[str, Any]) -> str | None:
    labels = pod.get("metadata", {}).get("labels", {})
    name = labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")
    return str(name) if name else None


def sight(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> JobSight:
    """Read ``job`` and its ``pods`` (any order) into a :class:`JobSight`."""
    meta, spec, status = job.get("metadata", {}), job.get("spec", {}), job.get("status", {})
    conditions = {
        c.get("type"): c for c in status.get("conditions", []) if c.get("status") == "True"
    }
    newest = max(
        pods, key=lambda pod: pod.get("metadata", {}).get("creationTimestamp", ""), default=None
    )
    exit_code, termination, pod_reason = _main_container_end(newest)
    reason: str | None = None
    message: str | None = None
    finished_at: str | None = status.get("completionTime")
    state: JobState
    succeeded = next((conditions[t] for t in _SUCCESS if t in conditions), None)
    failed = next((conditions[t] for t in _FAILURE if t in conditions), None)
    if succeeded is not None:
        state = "succeeded"
    elif failed is not None:
        state = "failed"
        reason = failed.get("reason") or pod_reason
        message = failed.get("message")
        finished_at = failed.get("lastTransitionTime") or finished_at
    elif spec.get("suspend") and not status.get("active"):
        state = "queued"
    elif newest is not None and newest.get("status", {}).get("phase") == "Running":
        state = "running"
    elif status.get("active"):
        state = "pending"
    else:
        state = "pending"
    return JobSight(
        name=str(meta.get("name", "")),
        labels=dict(meta.get("labels", {})),
        annotations=dict(meta.get("annotations", {})),
        state=state,
        reason=reason,
        message=message,
        exit_code=exit_code,
        termination_message=termination,
        created_at=meta.get("creationTimestamp"),
        finished_at=finished_at,
    )


def _main_container_end(
    pod: Mapping[str, Any] | None,
) -> tuple[int | None, str | None, str | None]:
    if pod is None:
        return None, None, None
    statuses = pod.get("status", {}).get("containerStatuses", [])
    for container in statuses:
        terminated = container.get("state", {}).get("terminated")
        if terminated is not None:
            return (
                terminated.get("exitCode"),
                terminated.get("message"),
                terminated.get("reason"),
            )
    init = pod.get("status", {}).get("initContainerStatuses", [])
    for container in init:
        terminated = container.get("state", {}).get("terminated")
        if terminated is not None and terminated.get("exitCode", 0) != 0:
            return terminated.get("exitCode"), terminated.get("message"), "InitContainerFailed"
    return None, None, pod.get("status", {}).get("reason")
