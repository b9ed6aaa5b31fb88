"""A control plane for the length of a ``with`` block: what the pytest fixture is made of.

The processes are tied to the calling process (they get SIGTERM if it dies), and ``down`` runs
on the way out whatever happens inside the block, so a failing or interrupted test session
leaves nothing behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from yokeflow.testing.controlplane.cluster import ControlPlaneConfig, down, up
from yokeflow.testing.controlplane.kubectl import Kubectl
from yokeflow.testing.controlplane.readiness import Report

__all__ = ["RunningControlPlane", "running_control_plane"]


@dataclass(frozen=True)
class RunningControlPlane:
    """A ready control plane: where its kubeconfig and binaries are, and a kubectl bound to it."""

    kubeconfig: Path
    server: str
    bin_dir: Path
    state_dir: Path
    startup_seconds: float
    kubectl: Kubectl


@contextlib.contextmanager
def running_control_plane(
    config: ControlPlaneConfig, report: Report
) -> Iterator[RunningControlPlane]:
    """Start a control plane (or reuse the one in ``config.state_dir``), stop it on exit."""
    try:
        state = up(config, report).state
        kubeconfig = Path(state.kubeconfig)
        yield RunningControlPlane(
            kubeconfig=kubeconfig,
            server=state.server,
            bin_dir=Path(state.bin_dir),
            state_dir=Path(state.state_dir),
            startup_seconds=state.startup_seconds,
            kubectl=Kubectl(Path(state.bin_dir) / "kubectl", kubeconfig),
        )
    finally:
        down(config.state_dir, report)
