"""A test-only kubelet whose pods are local processes.

``python -m yokeflow.testing.processnode --kubeconfig K --root DIR`` runs a process node; the
pytest fixtures in ``pytest_plugin`` start one per session. Pods land on it when their spec has
``placement()``'s node selector and toleration. See ``node`` for what it does and does not run.
"""

from __future__ import annotations

from yokeflow.testing.processnode.node import (
    NODE_LABEL,
    NODE_TAINT,
    NodeConfig,
    ProcessNode,
    placement,
)

__all__ = ["NODE_LABEL", "NODE_TAINT", "NodeConfig", "ProcessNode", "placement"]
