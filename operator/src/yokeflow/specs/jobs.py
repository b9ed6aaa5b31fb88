"""The envelope every YokeFlow Job shares: one pod, no Job-controller retries, a deadline, a TTL,
no service-account token, a non-root pod.

Task, merge and planning Jobs differ only in their containers, volumes and labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from yokeflow.specs.names import Owner, owner_reference
from yokeflow.specs.objects import Container, Job, PodSpec, Toleration, Volume
from yokeflow.specs.pods import PodSettings, pod_security_context

__all__ = ["JobShape", "job"]


@dataclass(frozen=True, slots=True)
class JobShape:
    """The identity and limits of one Job."""

    name: str
    namespace: str
    owner: Owner
    labels: dict[str, str]
    """Labels of both the Job and its pod."""
    annotations: dict[str, str]
    deadline_seconds: int
    """``activeDeadlineSeconds``: the pod is stopped after this long."""
    ttl_seconds: int
    """``ttlSecondsAfterFinished``: the finished Job is deleted after this long."""
    job_labels: dict[str, str] | None = None
    """Extra labels of the Job only (Kueue's queue name)."""
    suspend: bool = False


def job(
    shape: JobShape,
    settings: PodSettings,
    init_containers: list[Container],
    containers: list[Container],
    volumes: list[Volume],
) -> Job:
    """A ``batch/v1`` Job of exactly one pod that is never restarted or retried by Kubernetes."""
    pod: PodSpec = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(settings),
        "initContainers": init_containers,
        "containers": containers,
        "volumes": volumes,
    }
    if settings.node_selector:
        pod["nodeSelector"] = dict(settings.node_selector)
    if settings.tolerations:
        pod["tolerations"] = [Toleration(**t) for t in settings.tolerations]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": shape.name,
            "namespace": shape.namespace,
            "labels": {**shape.labels, **(shape.job_labels or {})},
            "annotations": dict(shape.annotations),
            "ownerReferences": [owner_reference(shape.owner)],
        },
        "spec": {
            # Our retry policy decides about another attempt (a new Job), never the Job controller.
            "backoffLimit": 0,
            "completions": 1,
            "parallelism": 1,
            "activeDeadlineSeconds": shape.deadline_seconds,
            "ttlSecondsAfterFinished": shape.ttl_seconds,
            "suspend": shape.suspend,
            "template": {
                "metadata": {"labels": dict(shape.labels), "annotations": dict(shape.annotations)},
                "spec": pod,
            },
        },
    }
