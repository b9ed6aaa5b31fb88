"""The build script and the Python package agree on where the binaries are, and the wrapper
modules pin what versions.env says. No control plane is started here."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import yokeflow.testing.controlplane as controlplane
from yokeflow.testing.controlplane.binaries import ToolVersions, resolve_bin_dir

pytestmark = pytest.mark.controlplane

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TOOLS = ROOT / "tests" / "controlplane"


def test_python_and_build_sh_name_the_same_bin_dir(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    printed = subprocess.run(
        ["bash", str(TOOLS / "build.sh"), "--print-dir"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    assert Path(printed) == resolve_bin_dir(env, [HERE])

    env["YOKEFLOW_TESTBIN_ROOT"] = str(tmp_path / "elsewhere")
    printed = subprocess.run(
        ["bash", str(TOOLS / "build.sh"), "--print-dir"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    assert Path(printed) == resolve_bin_dir(env, [HERE])


def test_wrapper_modules_pin_the_versions_of_versions_env() -> None:
    versions = ToolVersions.read(TOOLS / "versions.env")
    pins = {
        "kubernetes": ("k8s.io/kubernetes", versions.kubernetes),
        "etcd": ("go.etcd.io/etcd/server/v3", versions.etcd),
        "kwok": ("sigs.k8s.io/kwok", versions.kwok),
        "helm": ("helm.sh/helm/v3", versions.helm),
    }
    for tool, (module, version) in pins.items():
        gomod = (TOOLS / "tools" / tool / "go.mod").read_text()
        assert re.search(
            rf"^\s*(require\s+)?{re.escape(module)} {re.escape(version)}\b", gomod, re.M
        ), (
            f"tools/{tool}/go.mod does not require {module} {version}; "
            "run tests/controlplane/update-wrappers.sh"
        )
        assert (TOOLS / "tools" / tool / "go.sum").is_file()


def test_kubernetes_staging_modules_point_at_the_matching_release() -> None:
    versions = ToolVersions.read(TOOLS / "versions.env")
    staging = "v0." + versions.kubernetes.removeprefix("v1.")
    gomod = (TOOLS / "tools" / "kubernetes" / "go.mod").read_text()
    replaces = re.findall(r"^replace (\S+) => (\S+) (\S+)$", gomod, re.M)
    assert len(replaces) > 20
    assert all(old == new and version == staging for old, new, version in replaces)


def test_public_names_are_pinned() -> None:
    assert set(controlplane.__all__) == {
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
    }
