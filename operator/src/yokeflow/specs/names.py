"""Names, labels and owner references of everything the operator creates.

Names are deterministic — the same run, task and attempt always give the same Job name — so a
restarted operator finds (or gets AlreadyExists for) what it created before, never a duplicate.
Each name carries a short hash of its parts: two different (run, task, attempt) triples never
share a name even when their readable parts, truncated to 63 characters, look alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from yokeflow.core.naming import dns1123_label
from yokeflow.specs.objects import OwnerReference

__all__ = [
    "ANNOTATION_TASK_KEY",
    "COMPONENT_AGENT",
    "COMPONENT_MERGE",
    "COMPONENT_PLANNER",
    "LABEL_ATTEMPT",
    "LABEL_BATCH",
    "LABEL_COMPONENT",
    "LABEL_MANAGED_BY",
    "LABEL_NAME",
    "LABEL_RUN",
    "LABEL_TASK",
    "MANAGED_BY",
    "QUEUE_NAME_LABEL",
    "Owner",
    "common_labels",
    "label_value",
    "merge_job_name",
    "network_policy_name",
    "owner_reference",
    "planning_job_name",
    "task_batch_name",
    "task_job_name",
    "task_secret_name",
]

LABEL_NAME = "app.kubernetes.io/name"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "yokeflow-operator"
LABEL_RUN = "yokeflow.io/project-run"
"""The ProjectRun an object belongs to (label-safe form of its name)."""
LABEL_BATCH = "yokeflow.io/batch"
"""The TaskBatch number of a task or merge Job."""
LABEL_TASK = "yokeflow.io/task"
"""The task of a task Job (label-safe form of its key; the exact key is in an annotation)."""
LABEL_ATTEMPT = "yokeflow.io/attempt"
"""The attempt number of a task Job, from 1."""
ANNOTATION_TASK_KEY = "yokeflow.io/task-key"
"""The exact task key, which a label value may not be able to hold."""
QUEUE_NAME_LABEL = "kueue.x-k8s.io/queue-name"
"""Kueue's label: the LocalQueue a Job waits in."""
COMPONENT_AGENT = "agent"
COMPONENT_MERGE = "merge"
COMPONENT_PLANNER = "planner"

_MAX_NAME = 63  # a Job's name becomes its pods' `job-name` label value: at most 63 characters


@dataclass(frozen=True, slots=True)
class Owner:
    """The object that owns another (for its owner reference): usually a ProjectRun or TaskBatch."""

    api_version: str
    kind: str
    name: str
    uid: str


def owner_reference(owner: Owner) -> OwnerReference:
    """A controller owner reference: the owned object is deleted with its owner, and the owner's
    deletion waits for it (``blockOwnerDeletion``) when deleted in the foreground."""
    return {
        "apiVersion": owner.api_version,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def label_value(text: str) -> str:
    """A valid label value for ``text`` (kept as is when already valid and lowercase)."""
    return dns1123_label(text)


def common_labels(run: str, component: str) -> dict[str, str]:
    """The labels every object of a run carries: which run, which component, who manages it.

    Nothing is copied from the ProjectRun's own labels or annotations, so a GitOps tool's
    tracking label or annotation (ArgoCD's ``app.kubernetes.io/instance``,
    ``argocd.argoproj.io/tracking-id``) never lands on an operator-made object, which the tool
    would otherwise prune as its own.
    """
    return {
        LABEL_NAME: "yokeflow",
        LABEL_COMPONENT: component,
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_RUN: label_value(run),
    }


def _name(*parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:8]
    readable = dns1123_label("-".join(parts))
    head = readable[: _MAX_NAME - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}" if head else f"x{digest}"


def task_job_name(run: str, task: str, attempt: int) -> str:
    """The Job of one attempt of one task (``<run>-<task>-<attempt>-<hash>``, ≤ 63 characters)."""
    if attempt < 1:
        raise ValueError(f"attempt must be at least 1, got {attempt}")
    return _name(run, task, str(attempt))


def task_secret_name(job_name: str) -> str:
    """The Secret holding one task Job's MCP configuration (its token): named after the Job."""
    return _name(job_name, "mcp")


def merge_job_name(run: str, batch: int, attempt: int = 1) -> str:
    """The merge Job of one TaskBatch (``<run>-merge-<batch>-<attempt>-<hash>``)."""
    return _name(run, "merge", str(batch), str(attempt))


def planning_job_name(run: str, attempt: int) -> str:
    """The planning Job of one attempt (from 1) to plan a ProjectRun's spec."""
    return _name(run, "plan", str(attempt))


def task_batch_name(run: str, number: int) -> str:
    """The TaskBatch of scheduling round ``number`` of a run (``<run>-batch-<number>-<hash>``)."""
    return _name(run, "batch", str(number))


def network_policy_name(run: str) -> str:
    """The NetworkPolicy limiting the egress of a run's agent pods."""
    return _name(run, "agents")
