"""The built helm installs a chart into the control plane: a Deployment's pods run on kwok nodes
and ``helm install --wait`` sees them ready, as the chart work will need."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from yokeflow.testing.controlplane import RunningControlPlane

pytestmark = pytest.mark.controlplane


def test_helm_installs_and_uninstalls_a_chart(
    control_plane: RunningControlPlane, namespace: str, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "KUBECONFIG": str(control_plane.kubeconfig),
        "HELM_CACHE_HOME": str(tmp_path / "cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "config"),
        "HELM_DATA_HOME": str(tmp_path / "data"),
    }

    def helm(*args: str) -> str:
        done = subprocess.run(
            [str(control_plane.bin_dir / "helm"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"helm {' '.join(args)}: {done.stderr}"
        return done.stdout

    helm("create", str(tmp_path / "demo"))
    helm("lint", str(tmp_path / "demo"))
    helm("install", "demo", str(tmp_path / "demo"), "-n", namespace, "--wait", "--timeout=120s")

    (release,) = json.loads(helm("list", "-n", namespace, "-o", "json"))
    assert release["status"] == "deployed"
    deployment = control_plane.kubectl.get("deployment", "demo", "-n", namespace)
    assert deployment["status"]["readyReplicas"] == 1

    helm("uninstall", "demo", "-n", namespace, "--wait")
    assert json.loads(helm("list", "-n", namespace, "-o", "json")) == []
