"""The pytest fixtures ``process_node`` and ``git_server``, one of each per test session.

``process_node`` runs ``python -m yokeflow.testing.processnode`` against the session's control
plane (it needs the ``control_plane`` fixture) as a child process that dies with the session, and
waits until its Node is Ready. Its containers get this interpreter's folder first on ``PATH``, so
``python`` and ``yokeflow`` are the ones under test; the images of the Helm chart (operator and
agent) have this ``yokeflow`` as their entrypoint (``--entrypoint``). Its log is ``root / "process-node.log"``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from yokeflow.chart.values import AGENT_IMAGE, OPERATOR_IMAGE
from yokeflow.testing.controlplane.processes import spawn, stop
from yokeflow.testing.controlplane.session import RunningControlPlane
from yokeflow.testing.gitserver import GitServer, serving_git

__all__ = ["RunningProcessNode", "git_server", "process_node"]

_NODE_NAME = "process-node-0"


@dataclass(frozen=True)
class RunningProcessNode:
    """A process node registered with the session's control plane."""

    name: str
    root: Path
    log: Path

    def pod_folder(self, uid: str) -> Path:
        """Where the pod with ``uid`` keeps its volumes (``volumes/<name>``), logs and home."""
        return self.root / "pods" / uid


@pytest.fixture(scope="session")
def process_node(
    control_plane: RunningControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProcessNode]:
    """A process node for the whole session, stopped (with its pods' processes) at its end."""
    root = tmp_path_factory.mktemp("processnode")
    yokeflow = Path(sys.executable).parent / "yokeflow"
    log = root / "process-node.log"
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    argv = [
        sys.executable,
        "-m",
        "yokeflow.testing.processnode",
        f"--kubeconfig={control_plane.kubeconfig}",
        f"--root={root}",
        f"--name={_NODE_NAME}",
        # The chart's images run this interpreter's `yokeflow` (their ENTRYPOINT).
        *(f"--entrypoint={image}={yokeflow}" for image in (OPERATOR_IMAGE, AGENT_IMAGE)),
    ]
    record = spawn("process-node", argv, log, env, die_with_parent=True)
    try:
        _wait_ready(control_plane, _NODE_NAME, log)
        yield RunningProcessNode(_NODE_NAME, root, log)
    finally:
        stop(record, 20.0)


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A ``git daemon`` on loopback for the whole session."""
    with serving_git(tmp_path_factory.mktemp("gitserver") / "repositories") as server:
        yield server


def _wait_ready(control_plane: RunningControlPlane, name: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = control_plane.kubectl.attempt("get", "node", name, "-o", "json")
        if found.returncode == 0:
            node = json.loads(found.stdout)
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in node.get("status", {}).get("conditions", [])
            )
            tainted = any(
                taint.get("key", "").startswith("node.kubernetes.io/")
                for taint in node.get("spec", {}).get("taints", [])
            )
            if ready and not tainted:
                return
        time.sleep(0.3)
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"process node {name} not Ready after 60s; its log ends:\n{tail}")
