"""A real Kubernetes control plane on loopback, for tests and local trials.

etcd, kube-apiserver (RBAC, the usual admission plugins), kube-controller-manager,
kube-scheduler and kwok (fake nodes whose Stages run, complete or fail pods) are built once from
the Go module proxy by ``tests/controlplane/build.sh`` and started from here:

- ``python -m yokeflow.testing.controlplane up|down|status|bin-dir`` (see ``cli``),
- ``running_control_plane(config, report)`` as a context manager,
- the pytest fixture ``control_plane`` in ``pytest_plugin``.

See docs/controlplane.md for how it works and what it costs.
"""

from __future__ import annotations

from yokeflow.testing.controlplane.binaries import (
    BINARY_NAMES,
    Binaries,
    require_binaries,
    resolve_bin_dir,
)
from yokeflow.testing.controlplane.cluster import (
    ControlPlaneConfig,
    ControlPlaneStatus,
    UpResult,
    down,
    status,
    up,
)
from yokeflow.testing.controlplane.errors import (
    AlreadyRunningError,
    BinariesMissingError,
    ControlPlaneError,
    StartupError,
)
from yokeflow.testing.controlplane.kubectl import Kubectl, KubectlError
from yokeflow.testing.controlplane.session import RunningControlPlane, running_control_plane
from yokeflow.testing.controlplane.simulation import FAIL_LABEL

__all__ = [
    "BINARY_NAMES",
    "FAIL_LABEL",
    "AlreadyRunningError",
    "Binaries",
    "BinariesMissingError",
    "ControlPlaneConfig",
    "ControlPlaneError",
    "ControlPlaneStatus",
    "Kubectl",
    "KubectlError",
    "RunningControlPlane",
    "StartupError",
    "UpResult",
    "down",
    "require_binaries",
    "resolve_bin_dir",
    "running_control_plane",
    "status",
    "up",
]
