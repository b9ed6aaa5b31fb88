"""End-to-end fixtures: the real control plane (see yokeflow.testing.controlplane), the process
node and the git server (see yokeflow.testing.processnode), shared by the whole session."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from yokeflow.testing.controlplane import Kubectl, RunningControlPlane
from yokeflow.testing.controlplane.pytest_plugin import control_plane
from yokeflow.testing.processnode.pytest_plugin import git_server, process_node

__all__ = ["control_plane", "git_server", "kubectl", "namespace", "process_node"]


@pytest.fixture(scope="session")
def kubectl(control_plane: RunningControlPlane) -> Kubectl:
    """The built kubectl, bound to the session's control plane."""
    return control_plane.kubectl


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A fresh namespace whose default service account exists (pods can be created)."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    deadline = time.monotonic() + 60
    while kubectl.attempt("get", "serviceaccount", "default", "-n", name).returncode != 0:
        assert time.monotonic() < deadline, f"no default service account in {name} after 60s"
        time.sleep(0.2)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false")
