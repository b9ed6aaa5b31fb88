"""What kwok simulates: the fake nodes and the Stages that move pods through their lifecycle.

The Stages live in ``kwok-stages.yaml`` next to this module (read it for the lifecycle: pods
owned by Jobs run and succeed, or fail when labelled ``kwok.yokeflow.io/outcome=fail`` or when
they run the task keyed :data:`FAILING_TASK`; a merge Job's pod ends with the report of a merge
that merged every task it was given). Pure data apart from copying that file.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from yokeflow.testing.controlplane.components import FAKE_NODE_ANNOTATION

__all__ = ["FAILING_TASK", "FAIL_LABEL", "fake_node", "node_names", "write_stages"]

FAIL_LABEL = ("kwok.yokeflow.io/outcome", "fail")
"""A pod with this label fails (exit code 1) instead of succeeding."""
FAILING_TASK = "kwok-fails"
"""A plan's task with this key fails on kwok nodes (exit code 1), every attempt: its task Job's
pod carries it as the ``yokeflow.io/task`` label."""

_CAPACITY = {"cpu": "32", "memory": "256Gi", "pods": "110"}


def node_names(count: int) -> list[str]:
    """Names of the fake nodes: ``kwok-node-0`` ...."""
    return [f"kwok-node-{index}" for index in range(count)]


def fake_node(name: str) -> dict[str, Any]:
    """A Node object kwok will manage (no taints, so any pod may land on it)."""
    key, value = FAKE_NODE_ANNOTATION
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {key: value, "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/agent": "",
                "type": "kwok",
            },
        },
        "status": {"allocatable": dict(_CAPACITY), "capacity": dict(_CAPACITY)},
    }


def write_stages(path: Path) -> Path:
    """Copy the Stages file shipped with this package to ``path``."""
    source = importlib.resources.files(__package__ or __name__).joinpath("kwok-stages.yaml")
    path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return path
